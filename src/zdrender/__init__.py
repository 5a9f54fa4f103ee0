"""zdrender: a post-renderer that makes Kubernetes rollouts drop no traffic."""

__version__ = "0.1.0"
