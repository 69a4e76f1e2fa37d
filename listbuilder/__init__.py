"""listbuilder: ICP rules as code, compiled to tiered and explained account lists."""

from listbuilder.errors import DataError, ListbuilderError, RulesError

__version__ = "0.1.0"

__all__ = ["DataError", "ListbuilderError", "RulesError", "__version__"]
