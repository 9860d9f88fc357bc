"""AWS adapters behind small classes that take a boto3 client.

* :mod:`~newsflow.storage.layout` - the S3 key layout (the Athena ``dt=`` partition contract);
* :mod:`~newsflow.storage.documents` - the bucket (:class:`DocumentStore`);
* :mod:`~newsflow.storage.items` - the DynamoDB item shape and its (de)serialisation;
* :mod:`~newsflow.storage.articles` - what the stages write to the table (:class:`ArticleTable`);
* :mod:`~newsflow.storage.queue` - the queue the fetch stage hands off to (:class:`MessageQueue`);
* :mod:`~newsflow.storage.queries` - what the CLI reads back (:class:`ArticleQueries`).

Every AWS error leaves an adapter as a pipeline failure classified by :mod:`newsflow.aws_errors`,
so a failed write is retried by SQS and never silently dropped.
"""

from newsflow.storage.articles import ArticleTable
from newsflow.storage.documents import DocumentStore
from newsflow.storage.items import (
    ARTICLE_SK,
    DOMAIN_INDEX,
    FAILURES_INDEX,
    RETRY_SK,
    RetryNote,
    article_pk,
    deserialize_item,
    entity_pk,
    serialize_item,
)
from newsflow.storage.layout import (
    ARTICLES_PREFIX,
    ENRICHED_PREFIX,
    RAW_PREFIX,
    REJECTED_PREFIX,
    day_of_key,
    document_key,
    partition_day,
)
from newsflow.storage.queries import ArticleQueries, EntityMention
from newsflow.storage.queue import MessageQueue

__all__ = [
    "ARTICLES_PREFIX",
    "ARTICLE_SK",
    "DOMAIN_INDEX",
    "ENRICHED_PREFIX",
    "FAILURES_INDEX",
    "RAW_PREFIX",
    "REJECTED_PREFIX",
    "RETRY_SK",
    "ArticleQueries",
    "ArticleTable",
    "DocumentStore",
    "EntityMention",
    "MessageQueue",
    "RetryNote",
    "article_pk",
    "day_of_key",
    "deserialize_item",
    "document_key",
    "entity_pk",
    "partition_day",
    "serialize_item",
]
