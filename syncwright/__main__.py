"""``python -m syncwright`` is the ``syncwright`` command."""

from syncwright.cli import main

main()
