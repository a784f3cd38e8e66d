from django.apps import AppConfig


class ParConfig(AppConfig):
    name = "bench.par"
    label = "par"
