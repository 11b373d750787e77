from readerapp import create_app

app = create_app()
