"""`python -m a2a_temporal.cli`: the command line."""

from a2a_temporal.cli.main import run

if __name__ == "__main__":
    run()
