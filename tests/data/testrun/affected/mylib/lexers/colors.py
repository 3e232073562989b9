from mylib.base import Lexer


class ColorLexer(Lexer):
    words = ("red", "green", "blue")


LEXER = ColorLexer
