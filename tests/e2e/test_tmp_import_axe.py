from playwright.sync_api import Page
from pulse.extensions import db
from pulse.org.models import Role
from tests.e2e.conftest import LiveServer, axe_check, sign_in, visit
from tests.factories import make_person, make_staff

def test_axe_on_import_pages(page: Page, phone_page: Page, live_server: LiveServer) -> None:
    with live_server.app.app_context():
        make_staff(Role.HR, email="hr@example.com", name="Harriet Rowe", team="Acme/People")
        make_person(email="left@example.com", name="Left <b>Early</b>")
        make_person(email="ada@example.com", name="Ada", team="Acme/Old")
        make_person(email="back@example.com", name="Back", active=False)
        db.session.commit()
    for p in (page, phone_page):
        sign_in(p, live_server, "hr@example.com")
        visit(p, live_server.at("/directory/import"))
        p.get_by_label("CSV file").set_input_files(files=[{"name": "x.csv", "mimeType": "text/csv", "buffer": b"email,name,team,dept\nbad,B,Acme//x,1\nc@example.com,,Acme,\n"}])
        with p.expect_navigation():
            p.get_by_role("button", name="Preview import").click()
        axe_check(p)
        p.screenshot(path=f"/tmp/upload_err_{p.viewport_size['width']}.png", full_page=True)
        data = b"email,name,team,role,manages,dept\nada@example.com,Ada Lovelace,Acme/New,,Acme/New,x\nback@example.com,Back,Acme,,,\nnew@example.com,<script>x</script>,Acme/A/B,,,\nhr@example.com,Harriet Rowe,Acme/People,hr,,\n"
        p.get_by_label("CSV file").set_input_files(files=[{"name": "x.csv", "mimeType": "text/csv", "buffer": data}])
        p.get_by_label("Deactivate people who are not in this file").check()
        with p.expect_navigation():
            p.get_by_role("button", name="Preview import").click()
        axe_check(p)
        p.screenshot(path=f"/tmp/preview_{p.viewport_size['width']}.png", full_page=True)
        overflow = p.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        print("overflow", overflow)
