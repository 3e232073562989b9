class Lexer:
    words = ()

    def tokens(self, text):
        return [w.upper() for w in text.split() if w in self.words]
