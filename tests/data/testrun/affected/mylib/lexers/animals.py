from mylib.base import Lexer


class AnimalLexer(Lexer):
    words = ("cat", "dog")


LEXER = AnimalLexer
