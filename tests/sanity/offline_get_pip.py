"""Stand-in for the get-pip bootstrap script that ansible-test downloads from a host this machine cannot reach.

ansible-test runs it as ``get_pip_<version>.py [pip options] pip==<version> --no-setuptools --no-wheel`` inside a
fresh virtual environment. Here pip comes from the interpreter's own ensurepip, then pip installs the requested
packages from the package index as usual."""

import subprocess
import sys


def main():
    args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)


if __name__ == "__main__":
    main()
