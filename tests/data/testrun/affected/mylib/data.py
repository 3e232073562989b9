from pathlib import Path

HERE = Path(__file__).parent / "data"


def load(name):
    return (HERE / f"{name}.txt").read_text().split()


def load_bytes(name):
    return (HERE / name).read_bytes()
