"""Sources: feeds and sitemaps polled on a schedule, each new entry pushed once.

* :mod:`~newsflow.sources.models` - the source item, entries and the poll message;
* :mod:`~newsflow.sources.parsing` - kind detection and defensive parsing (RSS, Atom, JSON Feed,
  sitemaps, sitemap indexes, Google News sitemaps, gzip);
* :mod:`~newsflow.sources.store` - sources and seen entries in the table, batched queue sends;
* :mod:`~newsflow.sources.polling` - the poll use case and the due-source sweep.
"""

from newsflow.sources.models import Entry, PollMessage, Source, SourceKind, source_id_for
from newsflow.sources.parsing import ParsedSource, parse_source
from newsflow.sources.polling import PollLimits, PollResult, SourcePoller, queue_due_sources
from newsflow.sources.store import BatchQueue, SeenEntry, SourceTable

__all__ = [
    "BatchQueue",
    "Entry",
    "ParsedSource",
    "PollLimits",
    "PollMessage",
    "PollResult",
    "SeenEntry",
    "Source",
    "SourceKind",
    "SourcePoller",
    "SourceTable",
    "parse_source",
    "queue_due_sources",
    "source_id_for",
]
