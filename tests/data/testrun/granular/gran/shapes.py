import dataclasses
import enum

LIMIT = 3


class Color(enum.Enum):
    RED = 1
    GREEN = 2


@dataclasses.dataclass
class Point:
    x: int = 0
    y: int = 0


class Box:
    kind = "plain"

    def __init__(self, w):
        self.w = w

    def area(self):
        return self.w * self.w


def scale(v, factor=2):
    return v * factor


def unused():
    return 1


if __name__ == "__main__":
    print(scale(LIMIT))
