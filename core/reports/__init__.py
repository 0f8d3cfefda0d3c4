"""Research reports: planned, written section by section in parallel, cited, cached."""

from .plan import OutlineItem, ReportPlan
from .service import ReportHandle, ReportRequest, ReportService
from .writers import ExtractiveWriter, ModelWriter, SectionWriter

__all__ = [
    "ExtractiveWriter",
    "ModelWriter",
    "OutlineItem",
    "ReportHandle",
    "ReportPlan",
    "ReportRequest",
    "ReportService",
    "SectionWriter",
]
