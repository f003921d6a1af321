//! A Lambda Runtime API on loopback, to run the functions' real binaries as Lambda runs them:
//! the binary polls `/invocation/next`, is handed each event in turn, and posts its response or
//! its error, or, when its cold start fails, `/init/error`. Served with `tiny_http`.

use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// What the function answered to one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `POST /invocation/{id}/response`.
    Response(Value),
    /// `POST /invocation/{id}/error`: the error type header and the body.
    Error {
        /// `Lambda-Runtime-Function-Error-Type`, when sent.
        header: Option<String>,
        /// `{"errorType": ..., "errorMessage": ...}`.
        body: Value,
    },
}

#[derive(Default)]
struct State {
    pending: VecDeque<(String, Value)>,
    answers: BTreeMap<String, Answer>,
    init_error: Option<(Option<String>, Value)>,
    polls: u32,
}

/// The Runtime API, serving a list of events.
pub struct RuntimeApi {
    server: Arc<tiny_http::Server>,
    state: Arc<Mutex<State>>,
    total: usize,
    thread: Option<std::thread::JoinHandle<()>>,
}

const PREFIX: &str = "/2018-06-01/runtime/";

impl RuntimeApi {
    /// Serves `events`, named `req-0`, `req-1`, ... in order.
    pub fn serve(events: Vec<Value>) -> RuntimeApi {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind"));
        let state = Arc::new(Mutex::new(State {
            pending: events
                .iter()
                .enumerate()
                .map(|(i, e)| (format!("req-{i}"), e.clone()))
                .collect(),
            ..State::default()
        }));
        let thread = {
            let server = Arc::clone(&server);
            let state = Arc::clone(&state);
            std::thread::spawn(move || serve(&server, &state))
        };
        RuntimeApi {
            server,
            state,
            total: events.len(),
            thread: Some(thread),
        }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.server
            .server_addr()
            .to_ip()
            .map(|a| a.to_string())
            .unwrap_or_default()
    }

    /// Starts `binary` under this Runtime API with the variables Lambda sets and `env`.
    pub fn start(&self, binary: &Path, env: &[(&str, &str)]) -> Child {
        let mut cmd = Command::new(binary);
        cmd.env("AWS_LAMBDA_RUNTIME_API", self.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", "cloudsec-test")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/cloudsec-test")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.spawn().expect("start the binary")
    }

    /// Waits until every event is answered, the cold start reported an error, or `timeout`;
    /// then stops `child` and returns what it printed.
    pub fn finish(&self, mut child: Child, timeout: Duration) -> String {
        let started = Instant::now();
        while started.elapsed() < timeout {
            {
                let s = self.state.lock().expect("state");
                if s.answers.len() == self.total || s.init_error.is_some() {
                    break;
                }
            }
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Give a failed cold start the moment it needs to exit by itself.
        let exit_by = Instant::now() + Duration::from_secs(2);
        while Instant::now() < exit_by && matches!(child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        let mut out = String::new();
        if let Some(mut o) = child.stdout.take() {
            let _ = o.read_to_string(&mut out);
        }
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut out);
        }
        out
    }

    /// The answers, by request id.
    pub fn answers(&self) -> BTreeMap<String, Answer> {
        self.state.lock().expect("state").answers.clone()
    }

    /// What `/init/error` received: the error type header and the body.
    pub fn init_error(&self) -> Option<(Option<String>, Value)> {
        self.state.lock().expect("state").init_error.clone()
    }

    /// Times the binary asked for an event.
    pub fn polls(&self) -> u32 {
        self.state.lock().expect("state").polls
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn header(value: &str, name: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("header")
}

fn serve(server: &tiny_http::Server, state: &Mutex<State>) {
    // Requests for an event when none is left are held here, unanswered, as Lambda holds a
    // runtime that waits for its next invocation.
    let mut waiting = Vec::new();
    for mut request in server.incoming_requests() {
        let url = request.url().to_owned();
        let Some(path) = url.strip_prefix(PREFIX) else {
            let _ = request.respond(tiny_http::Response::empty(404));
            continue;
        };
        let mut body = String::new();
        let _ = request.as_reader().read_to_string(&mut body);
        let json: Value = serde_json::from_str(&body).unwrap_or(Value::String(body));
        let error_type = request
            .headers()
            .iter()
            .find(|h| h.field.equiv("Lambda-Runtime-Function-Error-Type"))
            .map(|h| h.value.to_string());
        let mut s = state.lock().expect("state");
        if path == "invocation/next" {
            s.polls += 1;
            match s.pending.pop_front() {
                Some((id, event)) => {
                    drop(s);
                    let deadline = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_millis() + 900_000)
                        .unwrap_or(0);
                    let response = tiny_http::Response::from_string(event.to_string())
                        .with_header(header(&id, "Lambda-Runtime-Aws-Request-Id"))
                        .with_header(header(&deadline.to_string(), "Lambda-Runtime-Deadline-Ms"))
                        .with_header(header(
                            "arn:aws:lambda:us-east-1:111122223333:function:cloudsec-test",
                            "Lambda-Runtime-Invoked-Function-Arn",
                        ))
                        .with_header(header(
                            "Root=1-00000000-000000000000000000000000",
                            "Lambda-Runtime-Trace-Id",
                        ))
                        .with_header(header("application/json", "Content-Type"));
                    let _ = request.respond(response);
                }
                None => waiting.push(request),
            }
            continue;
        }
        if path == "init/error" {
            s.init_error = Some((error_type, json));
        } else if let Some(rest) = path.strip_prefix("invocation/") {
            match rest.rsplit_once('/') {
                Some((id, "response")) => {
                    s.answers.insert(id.to_owned(), Answer::Response(json));
                }
                Some((id, "error")) => {
                    s.answers.insert(
                        id.to_owned(),
                        Answer::Error {
                            header: error_type,
                            body: json,
                        },
                    );
                }
                _ => {}
            }
        }
        drop(s);
        let _ = request.respond(tiny_http::Response::empty(202));
    }
    drop(waiting);
}
