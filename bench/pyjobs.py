#!/usr/bin/env python3
"""Run several of the bench scripts, one after another, in one Python.

The Go tests that compare curvprobe with PyTorch run the scripts here a dozen
times; each start of Python with torch costs about 1.5 s of CPU, more than
the work. This driver starts Python once and runs each script as
`python3 SCRIPT ARGS... >STDOUT` would (runpy, as __main__, with that argv
and the script's directory first on sys.path), so the scripts stay the
stand-alone programs they are.

  /usr/bin/python3 bench/pyjobs.py JOBS.json

JOBS.json is a list of {"script": PATH, "args": [...], "stdout": PATH}. The
jobs run in order (a later one may read an earlier one's files); one that
fails does not stop the others. Printed on stdout: a JSON list with, for each
job, {"status": its exit status (0, the sys.exit code, or 1 for an uncaught
exception), "stderr": what it wrote to sys.stderr, traceback included}.
Exit status: 0 when every job ran (whatever its status), 2 on a bad JOBS.json.
"""
import contextlib
import io
import json
import os
import runpy
import sys
import traceback

# Importing a script (torch_spectrum's read_safetensors) must not leave a
# __pycache__ in bench/.
sys.dont_write_bytecode = True


def run(job):
    err = io.StringIO()
    status = 0
    argv, path0 = sys.argv, sys.path[0]
    sys.argv = [job["script"]] + [str(a) for a in job.get("args", [])]
    sys.path[0] = os.path.dirname(os.path.abspath(job["script"]))
    try:
        with open(job["stdout"], "w") as out, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                runpy.run_path(job["script"], run_name="__main__")
            except SystemExit as e:
                if e.code is None:
                    status = 0
                elif isinstance(e.code, int):
                    status = e.code
                else:
                    err.write("%s\n" % e.code)
                    status = 1
            except BaseException:  # the job's failure, reported, not ours
                traceback.print_exc(file=err)
                status = 1
    except OSError as e:
        err.write("pyjobs: %s\n" % e)
        status = 1
    finally:
        sys.argv, sys.path[0] = argv, path0
    return {"status": status, "stderr": err.getvalue()}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    try:
        with open(sys.argv[1]) as f:
            jobs = json.load(f)
        if not isinstance(jobs, list) or not all(isinstance(j, dict) and "script" in j and "stdout" in j for j in jobs):
            raise ValueError("want a list of {\"script\", \"args\", \"stdout\"}")
    except (OSError, ValueError) as e:
        sys.stderr.write("pyjobs: %s: %s\n" % (sys.argv[1], e))
        sys.exit(2)
    json.dump([run(j) for j in jobs], sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
