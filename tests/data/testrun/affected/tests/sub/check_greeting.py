def test_greeting(greeting):
    assert greeting == "hello"
