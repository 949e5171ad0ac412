from tests.fakegithub.fixtures import fake_ghes, fake_github

__all__ = ["fake_ghes", "fake_github"]
