"""Networks from elsewhere in and out: NEAT genomes, scikit-learn MLPs, PyTorch ``Sequential``.

* :func:`from_neat` / :func:`to_neat`: a neat-python 2.0 genome (optional
  extra ``graphbp[neat]``), with neat's own activations registered as
  ``neat_<name>`` (:mod:`.neat_activations`); :func:`neat_config` builds a
  config without a file; :func:`refine_neat` trains a whole NEAT generation
  by backpropagation at once and writes the weights back into the genomes.
* :func:`from_sklearn` / :func:`to_sklearn`: a fitted ``MLPRegressor`` or
  ``MLPClassifier`` (extra ``graphbp[sklearn]``); :func:`sklearn_targets`
  turns its labels into graphbp targets.
* :func:`from_sequential` / :func:`to_sequential`: a ``torch.nn.Sequential``
  of ``Linear`` layers and activations (extra ``graphbp[torch]``).

Each library is imported on first use, never by ``import graphbp``.
"""

from .neat_activations import NEAT_ACTIVATIONS
from .neat_genome import from_neat, neat_config, to_neat
from .neat_population import refine_neat
from .sklearn_mlp import from_sklearn, sklearn_targets, to_sklearn
from .torch_sequential import from_sequential, to_sequential

__all__ = [
    "NEAT_ACTIVATIONS",
    "from_neat",
    "from_sequential",
    "from_sklearn",
    "neat_config",
    "refine_neat",
    "sklearn_targets",
    "to_neat",
    "to_sequential",
    "to_sklearn",
]
