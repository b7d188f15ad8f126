//! A real HTTP server of modules on 127.0.0.1 for the remote-import tests: it serves what the
//! test gives it (a module with its `content-type`, bytes such as an npm tarball, a redirect, or
//! 404 for anything else),
//! counts the requests for each path, and can be stopped, after which its port refuses
//! connections.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// What the server answers for a path.
#[derive(Debug, Clone)]
pub enum Route {
    /// 200 with this `content-type` and body.
    Body {
        /// The `content-type` header.
        content_type: String,
        /// The body.
        body: String,
    },
    /// 302 to this location.
    Redirect(String),
    /// 200 with this `content-type` and these bytes (an npm tarball).
    Bytes {
        /// The `content-type` header.
        content_type: String,
        /// The body.
        body: Vec<u8>,
    },
}

/// A running module server; stopped when dropped.
pub struct ModuleServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ModuleServer {
    /// Starts a server that answers 404 to everything until routes are added.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let routes: Arc<Mutex<HashMap<String, Route>>> = Arc::default();
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (routes, hits, stop) = (routes.clone(), hits.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        answer(stream, &routes, &hits);
                    }
                }
            })
        };
        ModuleServer {
            port,
            routes,
            hits,
            stop,
            thread: Some(thread),
        }
    }

    /// Serves `body` at `path` as TypeScript.
    pub fn typescript(&self, path: &str, body: &str) {
        self.route(
            path,
            Route::Body {
                content_type: "application/typescript; charset=utf-8".into(),
                body: body.into(),
            },
        );
    }

    /// Answers `path` with `route` from now on.
    pub fn route(&self, path: &str, route: Route) {
        self.routes.lock().unwrap().insert(path.into(), route);
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// How many requests asked for `path` so far.
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    /// Stops accepting and closes the port: later connections are refused.
    pub fn stop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.stop.store(true, Ordering::SeqCst);
            let _ = TcpStream::connect(("127.0.0.1", self.port));
            thread.join().unwrap();
        }
    }
}

impl Drop for ModuleServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Reads one request from `stream` and answers it (one request per connection).
fn answer(
    mut stream: TcpStream,
    routes: &Mutex<HashMap<String, Route>>,
    hits: &Mutex<HashMap<String, usize>>,
) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    *hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    let route = routes.lock().unwrap().get(&path).cloned();
    let response = match route {
        Some(Route::Body { content_type, body }) => format!(
            "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{body}",
            body.len()
        ),
        Some(Route::Bytes { content_type, body }) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
            return;
        }
        Some(Route::Redirect(location)) => format!(
            "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\n\
             connection: close\r\n\r\n"
        ),
        None => "HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\nconnection: close\r\n\r\nnot found"
            .to_owned(),
    };
    let _ = stream.write_all(response.as_bytes());
}
