"""Parameter declarations several families share, declared once (see :mod:`aekit.params`).

A family lists the shared :class:`~aekit.params.Param` in its ``params`` where it wants it in its
order, and sets its own default through ``defaults`` (e.g. ``defaults = {"latent_dim": 2}``).
"""

from aekit.params import Integer, Param

#: the width of a flat code (dense, vae, conv_vae); 32 is the dense family's default
LATENT_DIM = Param("latent_dim", 32, Integer(1), "size of the code", flag="latent", positional=True)
