"""Training runs: :class:`Run` owns a run's directory (locked, never losing a finished
run), its config (:mod:`dualnum.run.settings`, every setting declared once), its
gradient step (:mod:`dualnum.run.estimators`), the cadence of metrics, evaluations and
checkpoints, signals and the summary. ``dualnum train`` and ``dualnum eval`` are thin
command lines over :class:`Run` and :func:`evaluate_checkpoint`.
"""
from .directory import RunDirectory, RunDirectoryError, RunLockedError
from .settings import DEFAULTS, RECIPES, SETTINGS, SettingError, resolve
from .training import (ROOT, Interrupted, Reporter, Run, RunError, evaluate_checkpoint,
                       plot_metrics)

__all__ = ["Run", "RunError", "Interrupted", "Reporter", "evaluate_checkpoint",
           "plot_metrics", "RunDirectory", "RunDirectoryError", "RunLockedError",
           "SETTINGS", "DEFAULTS", "RECIPES", "SettingError", "resolve", "ROOT"]
