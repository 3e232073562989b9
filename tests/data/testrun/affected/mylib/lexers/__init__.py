import importlib


def get_lexer(name):
    module = importlib.import_module(f"mylib.lexers.{name}")
    return module.LEXER()
