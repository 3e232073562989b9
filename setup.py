"""Map the top-level folders onto the catalytic.* namespace (metadata lives in pyproject.toml)."""

from setuptools import find_packages, setup

FOLDERS = ("daemon", "client", "plugins", "config", "protocol")

package_dir = {f"catalytic.{folder}": folder for folder in FOLDERS}
packages = []
for folder in FOLDERS:
    packages.append(f"catalytic.{folder}")
    packages += [f"catalytic.{folder}.{sub}" for sub in find_packages(folder)]
    for sub in find_packages(folder):
        package_dir[f"catalytic.{folder}.{sub}"] = f"{folder}/{sub.replace('.', '/')}"

setup(package_dir=package_dir, packages=packages)
