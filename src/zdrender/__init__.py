"""zdrender: a post-renderer that makes Kubernetes rollouts drop no traffic."""

__version__ = "0.1.0"
# Where the project lives; pyproject.toml's [project.urls] says the same (a test keeps them equal).
# Links into the docs name the release's tag, so a rule's page matches the rule that ran.
REPOSITORY = "https://github.com/zdrender/zdrender"


def docs_url(page: str) -> str:
    """The address of `page` (a path under docs/) as this release ships it."""
    return f"{REPOSITORY}/blob/v{__version__}/docs/{page}"
