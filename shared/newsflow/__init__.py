"""newsflow: fetch, parse and enrich article streams.

This package is the Lambda layer. It knows nothing about Lambda events (that is the job of
``functions/``) and never imports the CLI, the local stack or tests.
"""

__version__ = "0.1.0"
