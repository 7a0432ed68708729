//! The sign-in flow as a client drives it: registration, the authorize
//! page, the token endpoint, and calls to `/mcp` with the token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crypto_mcp::oauth::OAuthArgs;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::TestApp;

pub const USER: &str = "alice";
pub const PASSWORD: &str = "correct-horse-battery";
pub const REDIRECT: &str = "http://127.0.0.1:3000/callback";

/// The authorization server's defaults, with [`USER`] able to sign in.
pub fn default_args() -> OAuthArgs {
    let mut a = OAuthArgs::new();
    a.users = vec![format!("{USER}:{PASSWORD}").parse().unwrap()];
    a
}

pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

pub fn pkce() -> Pkce {
    let verifier = format!("v{}", uuid::Uuid::new_v4().simple()).repeat(2);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    Pkce {
        verifier,
        challenge,
    }
}

/// What the authorize page gave us.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    pub cookie: Option<String>,
}

impl Page {
    pub fn field(&self, name: &str) -> Option<String> {
        let needle = format!("name=\"{name}\" value=\"");
        let i = self.body.find(&needle)? + needle.len();
        let j = self.body[i..].find('"')? + i;
        Some(self.body[i..j].to_owned())
    }
}

pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub client_id: String,
    pub body: Value,
}

/// A client that never follows redirects, its sockets bound to `ip` (a
/// loopback address: 127.0.0.2 is another client IP to the server).
pub fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(ip.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

pub fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    let u = url::Url::parse(location).expect("absolute Location");
    u.query_pairs().into_owned().collect()
}

impl TestApp {
    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        let r = self.http.get(self.url(path)).send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn register(&self, body: Value) -> reqwest::Response {
        self.register_with(&self.http, body).await
    }

    pub async fn register_with(&self, http: &reqwest::Client, body: Value) -> reqwest::Response {
        http.post(self.url("/register"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Registers a public client for `REDIRECT` and returns its id.
    pub async fn register_public(&self) -> String {
        let r = self
            .register(json!({"client_name": "Test App", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        v["client_id"].as_str().unwrap().to_owned()
    }

    pub fn authorize_params(&self, client_id: &str, p: &Pkce) -> Vec<(String, String)> {
        vec![
            ("response_type".into(), "code".into()),
            ("client_id".into(), client_id.into()),
            ("redirect_uri".into(), REDIRECT.into()),
            ("code_challenge".into(), p.challenge.clone()),
            ("code_challenge_method".into(), "S256".into()),
            ("state".into(), "st-123".into()),
            ("scope".into(), "mcp:tools".into()),
            ("resource".into(), format!("{}/mcp", self.public)),
        ]
    }

    pub async fn get_authorize(&self, params: &[(String, String)]) -> Page {
        self.get_authorize_with(&self.http, params).await
    }

    pub async fn get_authorize_with(
        &self,
        http: &reqwest::Client,
        params: &[(String, String)],
    ) -> Page {
        let r = http
            .get(self.url("/authorize"))
            .query(params)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let cookie = headers
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
        Page {
            status,
            headers,
            body: r.text().await.unwrap(),
            cookie,
        }
    }

    /// Submits the page's form with the given fields (request_id and
    /// csrf_token are taken from the page unless overridden).
    pub async fn post_form(&self, page: &Page, fields: &[(&str, &str)]) -> reqwest::Response {
        self.post_form_with(&self.http, page, fields).await
    }

    pub async fn post_form_with(
        &self,
        http: &reqwest::Client,
        page: &Page,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form: Vec<(String, String)> = vec![
            (
                "request_id".into(),
                page.field("request_id").unwrap_or_default(),
            ),
            (
                "csrf_token".into(),
                page.field("csrf_token").unwrap_or_default(),
            ),
        ];
        for (k, v) in fields {
            form.retain(|(fk, _)| fk != k);
            form.push(((*k).into(), (*v).into()));
        }
        let mut req = http.post(self.url("/authorize")).form(&form);
        if let Some(c) = &page.cookie {
            req = req.header("cookie", c);
        }
        req.send().await.unwrap()
    }

    pub async fn approve(&self, page: &Page) -> reqwest::Response {
        self.approve_with(&self.http, page).await
    }

    /// Signs in as the test user and approves, from `http`'s browser.
    pub async fn approve_with(&self, http: &reqwest::Client, page: &Page) -> reqwest::Response {
        self.post_form_with(
            http,
            page,
            &[
                ("username", USER),
                ("password", PASSWORD),
                ("decision", "approve"),
            ],
        )
        .await
    }

    /// Register → authorize → login+approve; returns the callback query.
    pub async fn obtain_code(
        &self,
        client_id: &str,
        p: &Pkce,
    ) -> std::collections::HashMap<String, String> {
        let page = self
            .get_authorize(&self.authorize_params(client_id, p))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let r = self.approve(&page).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let loc = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(loc.starts_with(REDIRECT), "{loc}");
        query_of(&loc)
    }

    pub async fn token(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url("/token"))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn exchange(&self, client_id: &str, code: &str, p: &Pkce) -> reqwest::Response {
        self.exchange_for(client_id, code, p, &format!("{}/mcp", self.public))
            .await
    }

    /// The code exchange, asking for `resource`.
    pub async fn exchange_for(
        &self,
        client_id: &str,
        code: &str,
        p: &Pkce,
        resource: &str,
    ) -> reqwest::Response {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &p.verifier),
            ("client_id", client_id),
            ("resource", resource),
        ])
        .await
    }

    /// The whole happy path, returning fresh tokens for `/mcp`.
    pub async fn obtain_tokens(&self) -> Tokens {
        let client_id = self.register_public().await;
        let p = pkce();
        let q = self.obtain_code(&client_id, &p).await;
        let r = self.exchange(&client_id, &q["code"], &p).await;
        assert_eq!(r.status(), StatusCode::OK);
        let body: Value = r.json().await.unwrap();
        Tokens {
            access: body["access_token"].as_str().unwrap().to_owned(),
            refresh: body["refresh_token"].as_str().unwrap().to_owned(),
            client_id,
            body,
        }
    }

    pub async fn refresh(&self, client_id: &str, refresh: &str) -> reqwest::Response {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", client_id),
        ])
        .await
    }

    pub async fn mcp(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self
            .http
            .post(self.url(path))
            .json(&json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }
}

pub async fn error_of(r: reqwest::Response) -> (StatusCode, String, HeaderMap) {
    let s = r.status();
    let h = r.headers().clone();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    (s, v["error"].as_str().unwrap_or("").to_owned(), h)
}
