"""Points: segments from different letters that make the same point (pure library, no I/O).

See grouping.py for the method; the store wires it to the database and GET /points.
"""

from services.store.points.grouping import (
    CONTENT_LABELS,
    Config,
    Point,
    PointGrouper,
    Segment,
    add_segments,
    group_segments,
    point_id,
)

__all__ = [
    "CONTENT_LABELS",
    "Config",
    "Point",
    "PointGrouper",
    "Segment",
    "add_segments",
    "group_segments",
    "point_id",
]
