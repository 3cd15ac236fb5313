"""Figures (matplotlib, no pyplot state) and a self-contained HTML report.

- :mod:`.grids`: ``image_grid`` tiling, ``save_figure`` (atomic PNG), ``figure_to_png_bytes``.
- :mod:`.plots`: image figures (reconstructions, samples, manifold, interpolations,
  traversals, restoration panels).
- :mod:`.charts`: latent scatter, training curves, KL per dimension, anomaly histogram, ROC.
- :mod:`.maps`: ``latent_map``, the 2-D map of codes (t-SNE with openTSNE, or PCA) shared by
  the report and the explorer.
- :mod:`.tables`: figures of tables (reconstruction error per feature, the worst rows).
- :mod:`.report`: ``build_report``; its sections (:mod:`.sections`) read a shared context and
  evaluation numbers (:mod:`.context`) and render through :mod:`.html`, whose
  ``ReportSection`` is also how callers add their own sections.
"""

from latentkit.viz.charts import (
    plot_anomaly_histogram,
    plot_kl_per_dimension,
    plot_latent_scatter,
    plot_roc,
    plot_training_curves,
    read_metrics,
)
from latentkit.viz.grids import figure_to_png_bytes, image_grid, save_figure
from latentkit.viz.html import ReportSection, table_html
from latentkit.viz.maps import LatentMap, latent_map
from latentkit.viz.plots import (
    plot_attribute_edits,
    plot_image_grid,
    plot_interpolations,
    plot_manifold,
    plot_reconstructions,
    plot_restoration,
    plot_samples,
    plot_traversals,
)
from latentkit.viz.report import (
    SECTIONS,
    AnomalyResult,
    Restoration,
    build_report,
    latent_traversals,
)
from latentkit.viz.tables import plot_feature_errors

__all__ = [
    "SECTIONS",
    "AnomalyResult",
    "LatentMap",
    "ReportSection",
    "Restoration",
    "build_report",
    "figure_to_png_bytes",
    "image_grid",
    "latent_map",
    "latent_traversals",
    "plot_anomaly_histogram",
    "plot_attribute_edits",
    "plot_feature_errors",
    "plot_image_grid",
    "plot_interpolations",
    "plot_kl_per_dimension",
    "plot_latent_scatter",
    "plot_manifold",
    "plot_reconstructions",
    "plot_restoration",
    "plot_roc",
    "plot_samples",
    "plot_training_curves",
    "plot_traversals",
    "read_metrics",
    "save_figure",
    "table_html",
]
