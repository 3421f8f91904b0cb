"""File-system helpers shared by every writer of user-visible files."""

import os


def regular_file_mode() -> int:
    """The mode a plain ``open()`` would give a new file (0666 less the umask).

    Atomic writes go through ``tempfile.mkstemp``, whose files are private (0600); files renamed
    into place get this mode instead, like any other file the user creates.
    """
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask
