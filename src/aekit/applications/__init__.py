"""What autoencoders are for: dimensionality reduction, anomaly detection, feature learning."""

from aekit.applications.anomaly import AnomalyDetector
from aekit.applications.features import linear_probe
from aekit.applications.reduction import AutoencoderReducer
from aekit.evaluation import roc_auc

__all__ = ["AnomalyDetector", "AutoencoderReducer", "linear_probe", "roc_auc"]
