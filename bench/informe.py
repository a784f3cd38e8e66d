"""The one table of the suite, and the table of the issue's targets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.medicion import Serie


@dataclass(frozen=True)
class Fila:
    """One line of the table: a series of ours next to the reference's series, same run.

    ``criterio`` says what the ratio compares: ``"mediana"`` (ours ÷ reference,
    lower is better) or ``"llamadas/s"`` (ours ÷ reference, higher is better).
    """

    seccion: str
    medida: str
    nuestro: Serie
    ref: Serie | None
    criterio: str = "mediana"
    unidad: str = "ms"
    nota: str = ""
    clave: str = ""  # how the targets find the row

    @property
    def ratio(self) -> float | None:
        if self.ref is None:
            return None
        if self.criterio == "llamadas/s":
            return self.nuestro.por_segundo / self.ref.por_segundo
        return self.nuestro.mediana / self.ref.mediana


@dataclass(frozen=True)
class FilaValor:
    """A line with one figure per side (peak RSS), not a series."""

    seccion: str
    medida: str
    nuestro: float
    ref: float | None
    unidad: str
    nota: str = ""

    @property
    def ratio(self) -> float | None:
        return self.nuestro / self.ref if self.ref else None


ETIQUETAS = {"mediana": "median", "llamadas/s": "calls/s"}
CABECERA = (
    "| section | measure | ours: median / p99 | ours calls/s | reference: median / p99 | ref. calls/s "
    "| ratio ours ÷ ref. | calls ours / ref. |\n| --- | --- | --- | --- | --- | --- | --- | --- |"
)


def tabla(filas: list[Fila | FilaValor]) -> str:
    return "\n".join([CABECERA, *(_linea(f) for f in filas)])


def _linea(f: Fila | FilaValor) -> str:
    medida = f"{f.medida}{' — ' + f.nota if f.nota else ''}"
    ratio = "—" if f.ratio is None else f"**{f.ratio:.2f}×**"
    if isinstance(f, FilaValor):
        ref = "—" if f.ref is None else f"{f.ref:.0f} {f.unidad}"
        return f"| {f.seccion} | {medida} | {f.nuestro:.0f} {f.unidad} | | {ref} | | {ratio} (value) | |"
    return (
        f"| {f.seccion} | {medida} | {_lat(f.nuestro, f.unidad)} | {_ps(f, f.nuestro)} | "
        f"{_lat(f.ref, f.unidad)} | {_ps(f, f.ref)} | {ratio} ({ETIQUETAS[f.criterio]}) | {_n(f)} |"
    )


def _lat(s: Serie | None, unidad: str) -> str:
    if s is None:
        return "—"
    escala, d = (1000, 3) if unidad == "s" else (1, 2)  # series are always in ms
    errores = f" ⚠ {s.errores} errors" if s.errores else ""
    return f"{s.mediana / escala:.{d}f} / {s.p99 / escala:.{d}f} {unidad}{errores}"


def _ps(f: Fila, s: Serie | None) -> str:
    if s is None or f.unidad == "s":
        return "—"
    return f"{s.por_segundo:,.0f}"


def _n(f: Fila) -> str:
    return f"{f.nuestro.n:,} / {f.ref.n:,}" if f.ref else f"{f.nuestro.n:,}"


@dataclass(frozen=True)
class Objetivo:
    """A target of the issue: a ratio bound on rows of the table."""

    que: str
    meta: str
    medido: str
    cumplido: bool


def objetivo(que: str, meta: str, ratios: list[float], cumple: Callable[[float], bool]) -> Objetivo:
    """A target met when every ratio in ``ratios`` meets it (several query kinds for one target)."""
    medido = ", ".join(f"{r:.2f}×" for r in ratios)
    return Objetivo(que, meta, medido, all(cumple(r) for r in ratios))


def tabla_objetivos(objetivos: list[Objetivo]) -> str:
    lineas = ["| what | target | measured (same run) | met? |", "| --- | --- | --- | --- |"]
    lineas += [
        f"| {o.que} | {o.meta} | {o.medido} | {'met' if o.cumplido else '**not met**'} |" for o in objetivos
    ]
    return "\n".join(lineas)
