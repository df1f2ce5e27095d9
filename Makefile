# Pulse: the two commands are `make run` and `make test`.
.PHONY: run demo-reset test lint venv translations

# Set up a local Pulse with demo data and serve it on http://127.0.0.1:5000.
run:
	@bash scripts/run.sh

# Delete the local demo database, load the demo again and serve it.
demo-reset:
	@bash scripts/run.sh --reset

# Install what the tests need, start PostgreSQL, then lint, type-check and run every test.
# Extra pytest arguments: make test ARGS="-k import -x"
test:
	@bash scripts/test.sh $(ARGS)

lint: venv
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

venv:
	@bash scripts/venv.sh

# Extract translatable text, merge it into each language's catalogue, compile the .mo files.
# New or changed strings come out untranslated or "fuzzy": translate them, then run this again.
translations: venv
	.venv/bin/pybabel extract -F babel.cfg --no-location --sort-output --width=100 --project=Pulse \
		--version=0.1.0 --copyright-holder="Pulse contributors" \
		-o pulse/translations/messages.pot .
	.venv/bin/pybabel update -i pulse/translations/messages.pot -d pulse/translations \
		--width=100 --ignore-obsolete
	.venv/bin/pybabel compile -d pulse/translations --statistics
