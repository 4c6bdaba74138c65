from edgeshrink.cli import run

run()
