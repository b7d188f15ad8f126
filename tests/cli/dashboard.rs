//! The admin dashboard at `/admin/`: its security headers over real HTTP, and a real browser
//! (Debian's headless `chromium`, driven over WebDriver through `chromedriver`) against a real
//! `fluxbase serve`: sign in, create, list, update, history, rollback (and a check-and-set
//! conflict), delete, a wrong key refused, sign out. After every step the page's DOM, every
//! input's value, its URL and `sessionStorage` hold no secret value (the key, in session
//! storage, is the one exception). Screenshots of each page at 1280x800 go to
//! `target/dashboard-screenshots/`.
//!
//! Without `chromedriver` and `chromium` the browser test prints `SKIPPED` and passes, unless
//! `FLUXBASE_TEST_REQUIRE_BROWSER=1` (CI sets it), which makes a missing browser a failure.

use std::net::TcpListener;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use futures::FutureExt;
use serde_json::{Value, json};

use crate::support;

use support::Host;
use support::raw_http::Exchange;
use support::server::{SERVICE_KEY, Server};

/// Turns a missing browser from a skip into a failure.
const REQUIRE_BROWSER_ENV: &str = "FLUXBASE_TEST_REQUIRE_BROWSER";
/// The CSP every dashboard answer carries.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
/// Every file the dashboard serves.
const ASSETS: [&str; 10] = [
    "index.html",
    "app.css",
    "app.js",
    "api.js",
    "dom.js",
    "secrets.js",
    "settings.js",
    "handlers.js",
    "logs.js",
    "chart.js",
];
/// A description that would run script if the page parsed API values as HTML.
const MARKUP: &str = r#"<img src="x" onerror="window.pwned = 1"><b>bold</b>"#;
/// How long any one condition may take to hold in the browser.
const WAIT: Duration = Duration::from_secs(30);

#[track_caller]
fn assert_secured(answer: &support::server::Answer, what: &str) {
    assert_eq!(
        answer.header("content-security-policy"),
        Some(CSP),
        "{what}"
    );
    assert_eq!(answer.header("x-frame-options"), Some("DENY"), "{what}");
    assert_eq!(
        answer.header("referrer-policy"),
        Some("no-referrer"),
        "{what}"
    );
    assert_eq!(
        answer.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
}

#[test]
fn dashboard_files_are_served_with_strict_security_headers() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    // The redirect itself, read off the wire (the HTTP client would follow it).
    let mut exchange = Exchange::start(&server.base, "GET", "/admin", &[], false);
    let redirect = exchange.read_head();
    assert_eq!(redirect.status, 308, "{redirect:#?}");
    assert_eq!(redirect.header("location"), Some("/admin/"));
    let redirect = support::server::Answer {
        status: redirect.status,
        headers: redirect.headers,
        body: String::new(),
    };
    assert_secured(&redirect, "/admin");

    let page = server.request("GET", "/admin/", false, None);
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_secured(&page, "/admin/");
    // No inline script or style, no inline handlers: the CSP would block them anyway.
    assert!(!page.body.contains("<script>") && !page.body.contains("style="));
    assert!(
        page.body
            .contains(r#"<script type="module" src="app.js"></script>"#)
    );

    for asset in ASSETS {
        let answer = server.request("GET", &format!("/admin/{asset}"), false, None);
        assert_eq!(answer.status, 200, "{asset}");
        assert_secured(&answer, asset);
        let expected = if asset.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else if asset.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            "text/html; charset=utf-8"
        };
        assert_eq!(answer.header("content-type"), Some(expected), "{asset}");
        // Values are rendered as text only.
        for unsafe_sink in [
            "innerHTML",
            "outerHTML =",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(
                !answer.body.contains(unsafe_sink),
                "{asset} uses {unsafe_sink}"
            );
        }
    }
    let missing = server.request("GET", "/admin/secrets.txt", false, None);
    assert_eq!(missing.status, 404);
    assert_secured(&missing, "a missing file");
    let escape = server.request("GET", "/admin/..%2FCargo.toml", false, None);
    assert_eq!(escape.status, 404);
}

/// A `chromedriver` process on a free port; killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Finds a program on PATH (or the absolute path an environment variable gives).
fn program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Starts `chromedriver`, or says why it cannot (then the test skips, or fails when required).
fn start_driver() -> Option<(Driver, PathBuf)> {
    let found = program("CHROMEDRIVER", &["chromedriver"]).zip(program(
        "CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    ));
    let Some((driver, browser)) = found else {
        assert!(
            std::env::var(REQUIRE_BROWSER_ENV).as_deref() != Ok("1"),
            "{REQUIRE_BROWSER_ENV}=1 but chromedriver or chromium is not installed \
             (apt-get install chromium chromium-driver)"
        );
        eprintln!(
            "SKIPPED the dashboard browser test: install chromium and chromium-driver \
             (or set CHROMEDRIVER and CHROMIUM)"
        );
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .new_agent();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = agent
            .get(format!("{}/status", driver.url))
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .and_then(|body| serde_json::from_str::<Value>(&body).ok())
            .is_some_and(|status| status["value"]["ready"] == true);
        if ready {
            return Some((driver, browser));
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not become ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A headless browser session at 1280x800.
async fn browser(driver: &Driver, browser: &std::path::Path, profile: &std::path::Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": browser.display().to_string(),
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--window-size=1280,800",
                "--hide-scrollbars",
                // Nothing in the background: the other tests share the cores.
                "--disable-extensions",
                "--disable-component-update",
                "--disable-background-networking",
                "--mute-audio",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session");
    set_viewport(&client, 1280, 800).await;
    client
}

/// Sizes the window so that the page's viewport (what a screenshot shows) is `width` x
/// `height`: the window's size includes the browser's own frame.
async fn set_viewport(client: &Client, width: u32, height: u32) {
    let inner = "return [window.innerWidth, window.innerHeight];";
    for _ in 0..3 {
        let now = client.execute(inner, vec![]).await.unwrap();
        let (w, h) = (now[0].as_u64().unwrap(), now[1].as_u64().unwrap());
        if (w, h) == (u64::from(width), u64::from(height)) {
            return;
        }
        let (_, _, outer_w, outer_h) = client.get_window_rect().await.unwrap();
        let grow = |outer: u64, have: u64, want: u32| {
            (outer + u64::from(want)).saturating_sub(have) as u32
        };
        client
            .set_window_size(grow(outer_w, w, width), grow(outer_h, h, height))
            .await
            .unwrap();
    }
    let now = client.execute(inner, vec![]).await.unwrap();
    panic!("the viewport is {now}, not {width}x{height}");
}

/// What the page holds that a value could leak into: its DOM, every control's value, its URL,
/// and every `sessionStorage` entry.
const PAGE_STATE: &str = r#"
    const storage = {};
    for (let i = 0; i < sessionStorage.length; i++) {
        const key = sessionStorage.key(i);
        storage[key] = sessionStorage.getItem(key);
    }
    return {
        html: document.documentElement.outerHTML,
        values: [...document.querySelectorAll("input, textarea, select")].map((e) => e.value),
        url: window.location.href,
        storage,
    };
"#;

/// The browser test's session: the client, the server, and every secret value used so far.
struct Session<'a> {
    client: Client,
    server: &'a Server,
    values: Vec<String>,
    shots: PathBuf,
}

impl Session<'_> {
    /// Asserts that no secret value is anywhere in the page, and that session storage holds
    /// the key alone (or nothing, when `signed_in` is false).
    async fn assert_clean(&self, step: &str, signed_in: bool) {
        let state = self.client.execute(PAGE_STATE, vec![]).await.unwrap();
        let html = state["html"].as_str().unwrap();
        let values: Vec<&str> = state["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap_or_default())
            .collect();
        let url = state["url"].as_str().unwrap();
        for value in &self.values {
            assert!(
                !html.contains(value.as_str()),
                "{step}: a secret value is in the DOM"
            );
            assert!(
                !values.iter().any(|v| v.contains(value.as_str())),
                "{step}: a secret value is in a form field"
            );
            assert!(
                !url.contains(value.as_str()),
                "{step}: a secret value is in the URL"
            );
        }
        // The key is never displayed either, though it is allowed in session storage.
        assert!(!html.contains(SERVICE_KEY), "{step}: the key is in the DOM");
        assert!(
            !values.contains(&SERVICE_KEY),
            "{step}: the key is in a form field"
        );
        let expected = if signed_in {
            json!({ "fluxbase.serviceKey": SERVICE_KEY })
        } else {
            json!({})
        };
        assert_eq!(state["storage"], expected, "{step}: sessionStorage");
    }

    /// Waits for the element `css` and returns it.
    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
    }

    /// Waits until the text of `css` contains `needle`; returns the text.
    async fn wait_text(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = match self.client.find(Locator::Css(css)).await {
                Ok(element) => element.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{css} never said {needle:?}; it says {text:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until no element matches `css`.
    async fn wait_gone(&self, css: &str) {
        let deadline = Instant::now() + WAIT;
        while !self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap()
            .is_empty()
        {
            assert!(Instant::now() < deadline, "{css} is still there");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Types `text` into the (emptied) field `css`.
    async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Clicks `css`, finding it again if the page re-rendered it between the find and the click.
    async fn click(&self, css: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.find(css).await.click().await {
                Ok(_) => return,
                Err(error) if Instant::now() < deadline => {
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(error) => panic!("cannot click {css}: {error}"),
            }
        }
    }

    /// Opens the newest job run's details again and again (the list re-renders as runs change,
    /// so a click may miss) until they say one of `needles`; returns the text.
    async fn newest_run_until(&self, needles: &[&str]) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(button) = self
                .client
                .find(Locator::Css(r#"#runs-list tr[data-run] button"#))
                .await
            {
                let _ = button.click().await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            let text = match self.client.find(Locator::Css("#run-detail")).await {
                Ok(detail) => detail.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if needles.iter().any(|needle| text.contains(needle)) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "the newest run never said {needles:?}: {text}"
            );
        }
    }

    /// Saves a screenshot of the viewport as `name`.png and checks it is 1280x800 (or `size`).
    async fn screenshot(&self, name: &str, size: (u32, u32)) {
        let png = self.client.screenshot().await.unwrap();
        assert_eq!(&png[1..4], b"PNG", "{name}");
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
        assert_eq!((width, height), size, "{name}: screenshot size");
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    /// The API's view of the secret, through the server directly.
    fn secret(&self, name: &str) -> support::server::Answer {
        self.server
            .request("GET", &format!("/api/v1/admin/secrets/{name}"), true, None)
    }

    /// The value a function sees for `name` (the `secrets` fixture returns it).
    fn seen_by_function(&self, name: &str) -> Value {
        self.server
            .request(
                "GET",
                &format!("/functions/v1/secrets?name={name}"),
                false,
                None,
            )
            .json()["value"]
            .clone()
    }
}

#[test]
fn dashboard_in_a_real_browser_manages_secrets_without_exposing_values() {
    let Some((driver, chromium)) = start_driver() else {
        return;
    };
    let host = Host::new();
    let server = Server::start(&host, &["--job-max-attempts", "1"]);
    // The `summarize` job reads this secret.
    let token = server.request(
        "POST",
        "/api/v1/admin/secrets",
        true,
        Some(
            &json!({
                "name": "REPORT_TOKEN",
                "value": "dash-report-token-5e1f",
                // Markup in an API value must show as text, never run.
                "description": MARKUP,
            })
            .to_string(),
        ),
    );
    assert_eq!(token.status, 201, "{token:#?}");
    let profile = tempfile::tempdir().unwrap();
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/dashboard-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = browser(&driver, &chromium, profile.path()).await;
        let mut session = Session {
            client,
            server: &server,
            values: Vec::new(),
            shots,
        };
        // The browser is closed whatever happens: killing chromedriver alone would leave it
        // running.
        let outcome = AssertUnwindSafe(drive(&mut session)).catch_unwind().await;
        let _ = session.client.clone().close().await;
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    });
}

/// Every step of the acceptance list, then a look at each page.
async fn drive(s: &mut Session<'_>) {
    let first = "dash-first-value-7f3a9c";
    let second = "dash-second-value-b81e44";
    let third = "dash-third-value-c05d12";
    let setting = "dash-setting-value-99aa01";
    let report = "dash-report-token-5e1f";
    s.values = [first, second, third, setting, report]
        .map(String::from)
        .to_vec();

    // /admin redirects to the page, which asks for the key.
    s.client
        .goto(&format!("{}/admin", s.server.base))
        .await
        .unwrap();
    s.find("#sign-in-key").await;
    assert!(
        s.client
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/admin/")
    );
    s.assert_clean("the sign-in page", false).await;
    s.screenshot("01-sign-in", (1280, 800)).await;

    // A wrong key is refused and not kept.
    s.fill("#sign-in-key", "wrong-service-key-000000").await;
    s.click("#sign-in-submit").await;
    s.wait_text("#sign-in-error", "That service key is wrong")
        .await;
    assert!(!s.find("#nav").await.is_displayed().await.unwrap());
    s.assert_clean("a wrong key", false).await;
    s.screenshot("02-wrong-key", (1280, 800)).await;

    // The right key signs in, with the keyboard alone: the field has the focus, Enter submits.
    let focused = s
        .client
        .execute("return document.activeElement.id;", vec![])
        .await
        .unwrap();
    assert_eq!(focused, "sign-in-key");
    s.client
        .active_element()
        .await
        .unwrap()
        .send_keys(&format!("{SERVICE_KEY}\u{E007}"))
        .await
        .unwrap();
    s.wait_text("#secrets-list", "REPORT_TOKEN").await;
    s.assert_clean("signed in", true).await;
    // The markup in a description is shown as its text: no element made, no script run.
    let rendered = s
        .client
        .execute(
            "return [document.querySelectorAll('#secrets-list img, #secrets-list b').length, \
             window.pwned === undefined, document.getElementById('secrets-list').textContent];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(rendered[0], 0, "{rendered}");
    assert_eq!(rendered[1], true, "{rendered}");
    assert!(rendered[2].as_str().unwrap().contains(MARKUP), "{rendered}");

    // Create.
    s.fill("#new-name", "dash_api_key").await;
    s.fill("#new-value", first).await;
    s.fill("#new-description", "Created by the browser test")
        .await;
    s.fill("#new-expires", "3d").await;
    s.click("#new-submit").await;
    s.wait_text("#secrets-message", "Created DASH_API_KEY (version 1)")
        .await;
    let row = r#"tr[data-secret="DASH_API_KEY"]"#;
    let listed = s.wait_text(row, "Created by the browser test").await;
    assert!(listed.contains("expires in 3 days"), "{listed}");
    s.assert_clean("created", true).await;
    assert_eq!(s.secret("DASH_API_KEY").json()["version"], 1);
    assert_eq!(s.seen_by_function("DASH_API_KEY"), first);
    s.screenshot("03-secrets", (1280, 800)).await;

    // Search filters the list.
    s.fill("#filter-search", "no-such-secret").await;
    s.wait_text("#secrets-list", "No secret matches").await;
    s.fill("#filter-search", "dash").await;
    s.find(row).await;

    // Update: a new value, as version 2.
    s.click(&format!("{row} button.edit")).await;
    s.fill("#edit-value", second).await;
    s.click("#edit-submit").await;
    s.wait_text("#secrets-message", "version 2").await;
    s.assert_clean("updated", true).await;
    assert_eq!(s.seen_by_function("DASH_API_KEY"), second);

    // Description and expiry alone: no new version.
    s.click(&format!("{row} button.edit")).await;
    s.fill("#edit-description", "Changed in the browser").await;
    s.find("#edit-expires").await.clear().await.unwrap();
    s.click("#edit-submit").await;
    s.wait_text("#secrets-message", "Saved the description and expiry")
        .await;
    let listed = s.wait_text(row, "Changed in the browser").await;
    assert!(listed.contains("never"), "{listed}");
    let meta = s.secret("DASH_API_KEY").json();
    assert_eq!(
        (meta["version"].clone(), meta["expires_at"].clone()),
        (json!(2), Value::Null)
    );
    assert_eq!(s.seen_by_function("DASH_API_KEY"), second);

    // History: two versions.
    s.click(&format!("{row} button.history")).await;
    s.find(r#"#secret-history tr[data-version="2"]"#).await;
    let versions = s
        .client
        .find_all(Locator::Css("#secret-history tbody tr"))
        .await
        .unwrap();
    assert_eq!(versions.len(), 2);
    s.assert_clean("history", true).await;
    s.screenshot("04-history", (1280, 800)).await;

    // Roll back to version 1: version 3 holds the first value again.
    s.click(r#"#secret-history tr[data-version="1"] button.rollback"#)
        .await;
    s.wait_text("#secrets-message", "now version 3").await;
    s.find(r#"#secret-history tr[data-version="3"]"#).await;
    s.assert_clean("rolled back", true).await;
    assert_eq!(s.secret("DASH_API_KEY").json()["version"], 3);
    assert_eq!(s.seen_by_function("DASH_API_KEY"), first);

    // Someone else writes meanwhile: a rollback from the stale page is a conflict, not an
    // overwrite.
    let concurrent = s.server.request(
        "PUT",
        "/api/v1/admin/secrets/DASH_API_KEY",
        true,
        Some(&json!({ "value": third }).to_string()),
    );
    assert_eq!(concurrent.status, 200, "{concurrent:#?}");
    s.click(r#"#secret-history tr[data-version="2"] button.rollback"#)
        .await;
    s.wait_text("#secrets-message", "Conflict").await;
    // The history is read again: the other writer's version is there now.
    s.find(r#"#secret-history tr[data-version="4"]"#).await;
    s.assert_clean("a conflict", true).await;
    assert_eq!(s.secret("DASH_API_KEY").json()["version"], 4);
    assert_eq!(s.seen_by_function("DASH_API_KEY"), third);
    s.screenshot("05-conflict", (1280, 800)).await;

    // Delete, after a confirmation.
    s.click(&format!("{row} button.delete")).await;
    s.wait_text("#delete-question", "cannot be undone").await;
    s.click("#delete-confirm").await;
    s.wait_text("#secrets-message", "Deleted DASH_API_KEY")
        .await;
    s.wait_gone(row).await;
    assert_eq!(s.secret("DASH_API_KEY").status, 404);
    s.assert_clean("deleted", true).await;

    // Settings secrets: set one for a user.
    s.client
        .goto(&format!("{}/admin/#/settings", s.server.base))
        .await
        .unwrap();
    s.fill("#settings-user", "dash-user").await;
    s.fill("#settings-key", "openai_key").await;
    s.fill("#settings-value", setting).await;
    s.click(r#"#settings-set button[type="submit"]"#).await;
    s.wait_text("#settings-message", "Set OPENAI_KEY for user dash-user")
        .await;
    s.wait_text(r#"tr[data-setting="OPENAI_KEY"]"#, "dash-user")
        .await;
    s.assert_clean("a settings secret", true).await;
    s.screenshot("06-settings", (1280, 800)).await;
    let stored = s.server.request(
        "GET",
        "/api/v1/admin/settings/secrets/OPENAI_KEY?user=dash-user",
        true,
        None,
    );
    assert_eq!(stored.status, 200, "{stored:#?}");
    // And delete it, after a confirmation.
    s.click(r#"tr[data-setting="OPENAI_KEY"] button"#).await;
    s.click("#settings-delete-confirm").await;
    s.wait_text("#settings-message", "Deleted OPENAI_KEY").await;
    s.wait_gone(r#"tr[data-setting="OPENAI_KEY"]"#).await;
    let gone = s.server.request(
        "GET",
        "/api/v1/admin/settings/secrets/OPENAI_KEY?user=dash-user",
        true,
        None,
    );
    assert_eq!(gone.status, 404, "{gone:#?}");

    // Functions: some calls first, so that the chart and the executions have something.
    for _ in 0..3 {
        s.server.request("GET", "/functions/v1/hello", false, None);
    }
    s.server.request("GET", "/functions/v1/throws", false, None);
    s.client
        .goto(&format!("{}/admin/#/functions", s.server.base))
        .await
        .unwrap();
    s.find(r#"[data-chart="hello"]"#).await;
    s.find(r#"[data-chart="throws"]"#).await;
    s.click(r#"tr[data-function="hello"] button"#).await;
    s.wait_text("#function-detail", "succeeded").await;
    s.assert_clean("functions", true).await;
    s.screenshot("07-functions", (1280, 800)).await;

    // Jobs: enqueue one with a payload and see its run.
    s.client
        .goto(&format!("{}/admin/#/jobs", s.server.base))
        .await
        .unwrap();
    s.find(r#"#enqueue-job option[value="summarize"]"#).await;
    s.find("#enqueue-job")
        .await
        .select_by_value("summarize")
        .await
        .unwrap();
    s.fill("#enqueue-payload", "{not json").await;
    s.click(r#"#enqueue button[type="submit"]"#).await;
    s.wait_text("#jobs-message", "not JSON").await;
    s.fill("#enqueue-payload", r#"{"items":[1,2,3]}"#).await;
    s.click(r#"#enqueue button[type="submit"]"#).await;
    s.wait_text("#jobs-message", "Enqueued run").await;
    let deadline = Instant::now() + WAIT;
    loop {
        s.click(r#"form.filters button[type="submit"]"#).await;
        let text = s.find("#runs-list").await.text().await.unwrap();
        if text.contains("succeeded") {
            break;
        }
        assert!(Instant::now() < deadline, "the run did not succeed: {text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    s.click(r#"#runs-list tr[data-run] button"#).await;
    // The job logged the secret it read: the page shows the line redacted.
    s.wait_text("#run-detail", "[REDACTED]").await;
    s.wait_text("#run-detail", r#""sum":6"#).await;
    s.assert_clean("jobs", true).await;
    s.screenshot("08-jobs", (1280, 800)).await;

    // A long run: its progress shows, the page cancels it, then retries and cancels it again.
    s.find("#enqueue-job")
        .await
        .select_by_value("progress")
        .await
        .unwrap();
    s.fill("#enqueue-payload", r#"{"ms": 60000}"#).await;
    s.click(r#"#enqueue button[type="submit"]"#).await;
    s.wait_text("#jobs-message", "Enqueued run").await;
    s.newest_run_until(&["50% halfway"]).await;
    s.click("#run-cancel").await;
    s.wait_text("#jobs-message", "to stop it").await;
    s.newest_run_until(&["cancelled while it ran"]).await;
    s.click("#run-retry").await;
    s.wait_text("#jobs-message", "again").await;
    // Queued or already running again: either way the page's cancel ends it.
    s.click("#run-cancel").await;
    let deadline = Instant::now() + WAIT;
    loop {
        s.click(r#"#runs-list tr[data-run] button"#).await;
        let text = s.find("#run-detail").await.text().await.unwrap();
        if text.contains("cancelled before it ran") || text.contains("cancelled while it ran") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the retried run was not cancelled: {text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    s.assert_clean("jobs", true).await;

    // Logs: audit records of what was done, newest first.
    s.client
        .goto(&format!("{}/admin/#/logs", s.server.base))
        .await
        .unwrap();
    s.wait_text("#logs-list", "delete").await;
    s.find("#logs-category")
        .await
        .select_by_value("audit")
        .await
        .unwrap();
    s.fill("#logs-search", "rollback").await;
    s.click(r#"form.filters button[type="submit"]"#).await;
    s.wait_text("#logs-list", "rollback").await;
    s.assert_clean("logs", true).await;
    s.screenshot("09-logs", (1280, 800)).await;

    // A narrow window still shows the secrets page, without sideways scrolling of the page.
    set_viewport(&s.client, 420, 800).await;
    s.client
        .goto(&format!("{}/admin/#/secrets", s.server.base))
        .await
        .unwrap();
    s.find("#secret-create").await;
    let overflow = s
        .client
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "the page scrolls sideways by {overflow}px"
    );
    s.screenshot("10-narrow-secrets", (420, 800)).await;
    set_viewport(&s.client, 1280, 800).await;

    // Sign-out forgets the key.
    s.click("#sign-out").await;
    s.wait_text("#sign-in-error", "Signed out").await;
    s.assert_clean("signed out", false).await;
    // Reloading does not sign in again.
    s.client.refresh().await.unwrap();
    s.find("#sign-in-key").await;
    s.assert_clean("reloaded after sign-out", false).await;
}
