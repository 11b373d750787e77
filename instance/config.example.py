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
# MAIL_BACKEND = "auto"                         # auto | smtp | folder | outbox, decided at send time
# MAIL_FOLDER = ""                              # folder backend: .eml files here (default instance/mail)
# MAIL_LEASE_SECONDS = 300                     # a sender that dies mid-send is taken over after this long

# RETENTION_MONTHS = 24                         # display names removed after this long
# CONCERN_RETENTION_MONTHS = 72                 # safeguarding concerns deleted this long after closure
# REFERRAL_REGULAR_SESSIONS = 4                 # a referred person is "regular" after this many sessions
# REFERRAL_REASONS = ("loneliness", "low_mood", "anxiety", "bereavement", "other")
# SMALL_NUMBER_THRESHOLD = 5                    # partners see counts of people below it as "fewer than 5"
# SCHEDULE_HORIZON_DAYS = 183                   # sessions generated this far ahead

# Limits on failed sign-ins and failed feed/API tokens, per client address. memory:// counts in
# one process: fine for one gunicorn worker; with several workers or machines use Redis.
# RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379"
# RATELIMIT_KEY_PREFIX = "readerapp"            # one per installation sharing a Redis
# SIGNIN_RATE_LIMIT = "10 per 5 minutes"
# TOKEN_RATE_LIMIT = "30 per minute"
# TRUSTED_PROXIES = 1                           # reverse proxies in front; 0 when none
# Bounded database waits (seconds): past them a request answers 503 with Retry-After instead of
# hanging. Raise DB_STATEMENT_TIMEOUT (or set 0 for no bound) in the environment of a long
# one-off job such as a migration on a large database.
# DB_CONNECT_TIMEOUT = 3                        # PostgreSQL connect; 2 or more
# DB_POOL_TIMEOUT = 3.0                         # waiting for a free pooled connection
# DB_STATEMENT_TIMEOUT = 5.0                    # PostgreSQL, one statement (server and client)
# SQLITE_BUSY_TIMEOUT = 5.0                     # SQLite, waiting for another writer
# DB_RETRY_AFTER_SECONDS = 10                   # the Retry-After of those 503 answers
# Logs and metrics (README, "Metrics and logs"). /metrics answers 404 until one of these is set.
# LOG_FORMAT = "json"                           # text | json (one JSON object per line)
# METRICS_TOKEN = "a-long-random-string"        # sent as "Authorization: Bearer ..."
# METRICS_ALLOWED_ADDRESSES = ["10.0.0.0/24"]   # addresses or CIDRs allowed to scrape
# API_MAX_BODY_BYTES = 1048576                # larger API request bodies answer 413
