# Copy to instance/config.py and keep what you need. Unknown names stop the start.
# Environment variables READERAPP_<NAME> override these.

# DATABASE_URL = "postgresql+psycopg://readerapp@127.0.0.1:5432/readerapp"
# TIMEZONE = "Europe/London"
# BASE_URL = "https://readerapp.example.org"   # used in feed links the CLI prints
# ENVIRONMENT = "production"                    # "development" allows cookies over plain http

# Outgoing mail. With no MAIL_HOST, messages wait in the outbox that admins read in the app.
# MAIL_HOST = "smtp.example.org"
# MAIL_PORT = 587
# MAIL_TLS = "starttls"                         # none | starttls | ssl
# MAIL_USERNAME = ""
# MAIL_PASSWORD = ""
# MAIL_SENDER = "readerapp@example.org"

# RETENTION_MONTHS = 24                         # display names removed after this long
# SCHEDULE_HORIZON_DAYS = 183                   # sessions generated this far ahead
# API_MAX_BODY_BYTES = 1048576                # larger API request bodies answer 413
