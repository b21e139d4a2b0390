"""A class on one server: HTTPS and the join address, students and their return codes, what the store keeps,
the Teacher page's report, and the training queue (``core.classroom.runner``).
"""

from core.utils.lazy import public_names

__getattr__, __dir__, __all__ = public_names(__name__, {
    "class_map": ["class_findings", "class_map_points"],
    "class_report": ["best_run_rows", "quiz_csv", "quiz_per_question", "runs_csv"],
    "disk_space": ["CANNOT_SAVE", "ServerCannotSave", "space_banner"],
    "join": ["join_urls", "qr_png"],
    "plain_http_hint": ["install_plain_http_hint"],
    "store": ["LoginRefused", "NicknameProblem", "Student"],
    "teacher_gate": ["server_gate", "teacher_code"],
})
