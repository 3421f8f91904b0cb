"""``aekit explore``: a trained autoencoder in the browser, to learn by looking and touching.

The page shows the test samples on a map of the latent space (hover for a reconstruction, click
an empty spot to decode it), interpolation between two samples, denoising, generation for
variational models, the samples ranked by reconstruction error, and the run's loss curves and
metrics. It is served from this machine only (127.0.0.1) and needs no network.

>>> aekit.explore(vae, aekit.load_dataset("digits"))          # from Python (Ctrl-C stops it)
>>> explorer = aekit.explore(vae, data, block=False); explorer.url; explorer.stop()
"""

from aekit.explorer.server import ExploreError, Explorer, explore, explore_run

__all__ = ["Explorer", "ExploreError", "explore", "explore_run"]
