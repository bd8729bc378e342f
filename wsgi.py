from app import create_app
from app.logs import configure_logging
from app.secret_key import require_secret_key

configure_logging()
app = create_app()
require_secret_key(app.config)  # gunicorn refuses to start on a missing or published key
