"""zdrender's container images, built without a container daemon (images/build.py); the
Dockerfiles build the same images where a daemon exists."""
