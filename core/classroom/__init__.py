"""A class on one server: HTTPS and the join address, students and their return codes, what the store keeps,
the Teacher page's report, and the training queue (``core.classroom.runner``).
"""

from core.utils.lazy import public_names

__getattr__, __dir__, __all__ = public_names(__name__, {
    "store": ["LoginRefused", "NicknameProblem", "Student"],
})
