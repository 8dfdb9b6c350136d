"""Processes that stand in for a script's workers in tests.

Tests start them with multiprocessing's "spawn" context, as the scripts
start their workers, and set or wait for the events they are given.
"""

import time

import script_io


def hold_lock(directory, locked):
  """Holds `directory`'s lock as a run does, until killed."""
  with script_io.locked_directory(directory, "output_dir"):
    locked.set()
    time.sleep(120)


def write_half_and_hang(output_file, started, sender):
  """Starts writing `output_file` as a shard's worker does, then hangs."""
  del sender  # Never reports.
  with open(script_io.temporary_path(output_file), "w") as f:
    f.write("half written")
  started.set()
  time.sleep(120)


def fail_once_started(output_file, started, sender):
  """Reports a failure as a worker does, once `started` is set."""
  del output_file  # Never written.
  started.wait(120)
  sender.send("the shard is bad")
  sender.close()
