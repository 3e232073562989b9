from mylib.lexers import get_lexer


def test_colors():
    assert get_lexer("colors").tokens("red cat blue") == ["RED", "BLUE"]


def test_animals():
    assert get_lexer("animals").tokens("red cat dog") == ["CAT", "DOG"]


def test_colors_again():
    assert get_lexer("colors").tokens("green") == ["GREEN"]
