//! The order-flow scenario: the three services and the sidecar in one process, a
//! handful of customers driving orders through all ten statuses over real HTTP and
//! RabbitMQ, and one order per requested [`Fault`] broken on purpose.
//!
//! Used by `cargo run --example order_flow` (which prints [`crate::report`]) and by
//! the root integration test (which asserts on what was exported over OTLP).

use std::time::{Duration, Instant};

use otel_order::OrderStatus;
use reqwest::header::HeaderMap;
use sha2::{Digest, Sha256};

use crate::api::hex;
use crate::broker::{self, BrokerUnreachable};
use crate::crm::{self, CrmService};
use crate::faults::{Fault, FaultPlan};
use crate::mes::{self, Mes, MesConfig};
use crate::orders::{OrderBook, OrderForm};
use crate::reconnect::Broker;
use crate::shop::{self, ModelStorage, ShopConfig, CHECKSUM_HEADER};
use crate::sidecar::{self, SidecarConfig};
use crate::stl::Mesh;
use crate::telemetry::{CollectedSpan, ServiceTelemetry, SpanCollector};
use crate::topology::Topology;

/// Service names as they appear in traces.
pub const SHOP: &str = "shop-api";
/// CRM's service name.
pub const CRM: &str = "crm-api";
/// MES's service name.
pub const MES: &str = "mes";
/// The sidecar's service name.
pub const SIDECAR: &str = "mes-sidecar";

/// The customers of the demo: realistic order forms whose personal data must never
/// reach telemetry. The integration test looks for each of these strings in the
/// exported bytes.
pub fn customers() -> Vec<OrderForm> {
    let form =
        |name: &str, phone: &str, email: &str, passport: &str, item: &str, metal: &str| OrderForm {
            full_name: name.into(),
            phone: phone.into(),
            email: email.into(),
            passport: passport.into(),
            item: item.into(),
            metal: metal.into(),
            comment: format!("Гравировка внутри, связаться с {name} по {phone}"),
        };
    vec![
        form(
            "Смирнова Анна Сергеевна",
            "+7 916 123-45-67",
            "anna.smirnova@example.ru",
            "4510 123456",
            "ring",
            "gold-585",
        ),
        form(
            "Кузнецов Дмитрий Иванович",
            "+7 (903) 555-12-34",
            "d.kuznetsov@example.com",
            "4608 654321",
            "ring",
            "platinum-950",
        ),
        form(
            "Петрова Елена Викторовна",
            "8 926 777-88-99",
            "elena.petrova@example.org",
            "4011 246810",
            "ring",
            "silver-925",
        ),
        form(
            "Соколов Артём Павлович",
            "+7 985 321-00-11",
            "artem.sokolov@example.ru",
            "4512 135790",
            "ring",
            "gold-585",
        ),
        form(
            "Волкова Мария Андреевна",
            "+7 915 222-33-44",
            "m.volkova@example.net",
            "4613 112233",
            "ring",
            "silver-925",
        ),
        form(
            "Лебедев Игорь Николаевич",
            "+7 977 444-55-66",
            "igor.lebedev@example.ru",
            "4014 998877",
            "ring",
            "gold-585",
        ),
        form(
            "Новикова Ольга Дмитриевна",
            "+7 926 101-20-30",
            "olga.novikova@example.com",
            "4515 102030",
            "ring",
            "platinum-950",
        ),
        form(
            "Морозов Сергей Алексеевич",
            "+7 999 808-70-60",
            "s.morozov@example.org",
            "4616 405060",
            "ring",
            "silver-925",
        ),
    ]
}

/// How to run the scenario.
#[derive(Clone, Debug)]
pub struct DemoConfig {
    /// RabbitMQ address.
    pub amqp_addr: String,
    /// Orders that go through untouched.
    pub happy_orders: usize,
    /// One extra order per fault, broken by it.
    pub faults: Vec<Fault>,
    /// Pricing delay of a normal order (the first; later ones take a little longer).
    pub pricing_delay: Duration,
    /// Pricing delay under [`Fault::SlowPricing`].
    pub slow_pricing_delay: Duration,
    /// SLA of `SUBMITTED`.
    pub pricing_sla: Duration,
    /// How long a step may take before the order counts as stuck.
    pub step_timeout: Duration,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            amqp_addr: broker::amqp_addr(),
            happy_orders: 3,
            faults: Vec::new(),
            pricing_delay: Duration::from_millis(120),
            slow_pricing_delay: Duration::from_millis(1_500),
            pricing_sla: Duration::from_secs(1),
            step_timeout: Duration::from_secs(2),
        }
    }
}

/// Why the scenario could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// No broker.
    #[error(transparent)]
    Broker(#[from] BrokerUnreachable),
    /// A broker operation failed.
    #[error("RabbitMQ operation failed: {0}")]
    Amqp(#[from] lapin::Error),
    /// Telemetry could not be set up.
    #[error("telemetry setup failed: {0}")]
    Telemetry(#[from] ordertrace::InitError),
    /// A local socket could not be opened.
    #[error("cannot listen on 127.0.0.1: {0}")]
    Listen(#[from] std::io::Error),
}

/// What happened to one order.
#[derive(Clone, Debug)]
pub struct OrderOutcome {
    /// The order id.
    pub order_id: String,
    /// The fault it was given, if any.
    pub fault: Option<Fault>,
    /// The last status any system recorded for it.
    pub reached: Option<OrderStatus>,
    /// The step where the driver gave up, when the order did not close.
    pub stopped: Option<String>,
}

/// A finished scenario: outcomes, spans, and the services (still running, so the
/// caller can flush and read gauges).
pub struct DemoRun {
    /// One per order, happy ones first.
    pub outcomes: Vec<OrderOutcome>,
    /// The run's topology (deleted by [`DemoRun::cleanup`]).
    pub topology: Topology,
    /// MES's order book (the stuck orders).
    pub mes_book: OrderBook,
    /// The Shop's order book.
    pub shop_book: OrderBook,
    /// Wall time of the scenario.
    pub elapsed: Duration,
    services: Services,
}

impl DemoRun {
    /// Every span the services finished, redacted, with the recording service.
    pub fn spans(&self) -> Vec<CollectedSpan> {
        self.services.spans()
    }

    /// Flush every service's spans and metrics to its exporters.
    pub fn flush(&self) {
        self.services.flush()
    }

    /// Stop the servers, delete the run's exchanges and queues, close the connections.
    pub async fn cleanup(self) -> Result<(), lapin::Error> {
        self.services.cleanup().await
    }
}

/// Where the spans of the in-process services go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SpanSink {
    /// Kept in memory for the demo's waterfall (and exported over OTLP when
    /// configured).
    #[default]
    Collect,
    /// Exported over OTLP only, through ordertrace's bounded span queue: for long
    /// runs, where keeping every span would grow without bound.
    ExportOnly,
}

/// Shop, CRM, MES and the sidecar running in this process, each with its own
/// broker connection (reconnecting) and HTTP server; orders are driven through
/// them with [`Services::run_orders`].
pub struct Services {
    /// The run's topology.
    pub topology: Topology,
    /// The faults planned for orders.
    pub faults: FaultPlan,
    /// The Shop's order book.
    pub shop_book: OrderBook,
    /// CRM's order book.
    pub crm_book: OrderBook,
    /// MES's order book.
    pub mes_book: OrderBook,
    config: DemoConfig,
    urls: Urls,
    http: reqwest::Client,
    storage: ModelStorage,
    collector: SpanCollector,
    telemetry: Vec<ServiceTelemetry>,
    brokers: Vec<Broker>,
    _mes: Mes,
    _crm: CrmService,
    servers: Vec<tokio::task::JoinHandle<()>>,
    created: std::sync::atomic::AtomicUsize,
}

impl Services {
    /// Start the services on `config.amqp_addr`, with a fresh per-run topology.
    pub async fn start(config: &DemoConfig, sink: SpanSink) -> Result<Services, DemoError> {
        let run_id = format!(
            "{:x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or_default()
                % 0xff_ffff
        );
        // Removed by `cleanup`; should the run be interrupted, the broker drops the
        // queues a minute later.
        let topology = Topology::new(&format!("demo-{run_id}")).expiring(Duration::from_secs(60));
        // One connection per service, as when they run as separate processes.
        let mut brokers = Vec::new();
        for _ in 0..3 {
            brokers.push(Broker::connect(&config.amqp_addr, topology.clone()).await?);
        }
        let faults = FaultPlan::new();
        let collector = SpanCollector::default();
        let telemetry = |name: &str| match sink {
            SpanSink::Collect => ServiceTelemetry::in_process(name, &collector),
            SpanSink::ExportOnly => ServiceTelemetry::exporting(name),
        };
        let shop_t = telemetry(SHOP)?;
        let crm_t = telemetry(CRM)?;
        let mes_t = telemetry(MES)?;
        let sidecar_t = telemetry(SIDECAR)?;

        let prefix = format!("ORD-{}", run_id.to_ascii_uppercase());
        let storage = ModelStorage::default();
        let (shop_router, shop_book) = shop::app(
            &shop_t,
            &brokers[0],
            ShopConfig {
                topology: topology.clone(),
                faults: faults.clone(),
                order_prefix: prefix,
                storage: storage.clone(),
            },
        )
        .await?;
        let (shop_url, shop_server) = serve(shop_router).await?;
        let crm = crm::start(&crm_t, &brokers[1], topology.clone()).await?;
        let (crm_url, crm_server) = serve(crm.router.clone()).await?;
        let mes = mes::start(
            &mes_t,
            brokers[2].clone(),
            MesConfig {
                topology: topology.clone(),
                faults: faults.clone(),
                pricing_delay: config.pricing_delay,
                slow_pricing_delay: config.slow_pricing_delay,
                pricing_sla: config.pricing_sla,
                storage_url: shop_url.clone(),
            },
        )
        .await?;
        let (mes_url, mes_server) = serve(mes.operator_api.clone()).await?;
        let (sidecar_router, _) = sidecar::app(
            &sidecar_t,
            SidecarConfig::new(&mes_url, sidecar::mes_operator_routes()),
        );
        let (sidecar_url, sidecar_server) = serve(sidecar_router).await?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Ok(Services {
            topology,
            faults,
            shop_book,
            crm_book: crm.book.clone(),
            mes_book: mes.book.clone(),
            config: config.clone(),
            urls: Urls {
                shop: shop_url,
                crm: crm_url,
                mes: mes_url,
                sidecar: sidecar_url,
            },
            http,
            storage,
            collector,
            telemetry: vec![shop_t, crm_t, mes_t, sidecar_t],
            brokers,
            _mes: mes,
            _crm: crm,
            servers: vec![shop_server, crm_server, mes_server, sidecar_server],
            created: Default::default(),
        })
    }

    /// Create one order per entry of `plan` (broken by its fault, if any) and drive
    /// them all concurrently to the end or to where they stop.
    pub async fn run_orders(&self, plan: Vec<Option<Fault>>) -> Vec<OrderOutcome> {
        // Orders are numbered by the Shop in creation order: create them one by one
        // so the fault plan can name them, then let them run concurrently.
        let forms = customers();
        let mut drivers = Vec::new();
        for fault in plan {
            let i = self
                .created
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let form = forms[i % forms.len()].clone();
            let (order_id, session) = match create(&self.http, &self.urls, &form).await {
                Ok(c) => c,
                Err(step) => {
                    drivers.push(tokio::spawn(async move {
                        OrderOutcome {
                            order_id: String::from("?"),
                            fault,
                            reached: None,
                            stopped: Some(step),
                        }
                    }));
                    continue;
                }
            };
            if let Some(fault) = fault {
                self.faults.plan(&order_id, fault);
            }
            let (http, urls, config) = (self.http.clone(), self.urls.clone(), self.config.clone());
            // Stagger the orders a little, as customers do.
            let pause = Duration::from_millis(15 * (i % 16) as u64);
            drivers.push(tokio::spawn(async move {
                tokio::time::sleep(pause).await;
                let stopped = drive(&http, &urls, &config, &order_id, session, i % 16)
                    .await
                    .err();
                OrderOutcome {
                    order_id,
                    fault,
                    reached: None,
                    stopped,
                }
            }));
        }
        let mut outcomes = Vec::new();
        for driver in drivers {
            if let Ok(outcome) = driver.await {
                outcomes.push(outcome);
            }
        }
        // Let late messages (duplicates, dead letters) land before reading the books.
        tokio::time::sleep(Duration::from_millis(300)).await;
        for outcome in &mut outcomes {
            outcome.reached = self.reached(&outcome.order_id);
        }
        outcomes
    }

    /// The last status any service recorded for `order_id`.
    pub fn reached(&self, order_id: &str) -> Option<OrderStatus> {
        [&self.crm_book, &self.mes_book, &self.shop_book]
            .iter()
            .filter_map(|b| b.get(order_id)?.order.status())
            .max()
    }

    /// Archive a finished order: out of every service's book and its model out of
    /// storage (long runs keep memory flat this way, as a real shop's archival
    /// job keeps its working set).
    pub fn archive(&self, order_id: &str) {
        for book in [&self.shop_book, &self.crm_book, &self.mes_book] {
            book.remove(order_id);
        }
        self.storage.remove_model(order_id);
    }

    /// Connections re-established so far, over all services.
    pub fn reconnects(&self) -> u64 {
        self.brokers.iter().map(Broker::reconnects).sum()
    }

    /// Connections re-established so far by the Shop, CRM and MES.
    pub fn reconnects_per_service(&self) -> [(&'static str, u64); 3] {
        [SHOP, CRM, MES]
            .into_iter()
            .zip(self.brokers.iter().map(Broker::reconnects))
            .collect::<Vec<_>>()
            .try_into()
            .unwrap_or([(SHOP, 0), (CRM, 0), (MES, 0)])
    }

    /// Every span the services finished (with [`SpanSink::Collect`]).
    pub fn spans(&self) -> Vec<CollectedSpan> {
        self.collector.spans()
    }

    /// Flush every service's spans and metrics to its exporters.
    pub fn flush(&self) {
        for service in &self.telemetry {
            service.flush();
        }
    }

    /// Stop the servers, delete the run's exchanges and queues, close the connections.
    pub async fn cleanup(self) -> Result<(), lapin::Error> {
        for server in &self.servers {
            server.abort();
        }
        let channel = self.brokers[0].channel().await;
        let result = self.topology.delete(&channel).await;
        for broker in &self.brokers {
            broker.close().await;
        }
        result
    }
}

async fn serve(
    router: axum::Router,
) -> Result<(String, tokio::task::JoinHandle<()>), std::io::Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((url, task))
}

/// Start everything, drive the orders, return the outcome.
pub async fn run(config: DemoConfig) -> Result<DemoRun, DemoError> {
    let started = Instant::now();
    let services = Services::start(&config, SpanSink::Collect).await?;
    let plan: Vec<Option<Fault>> = std::iter::repeat_n(None, config.happy_orders)
        .chain(config.faults.iter().copied().map(Some))
        .collect();
    let outcomes = services.run_orders(plan).await;
    Ok(DemoRun {
        outcomes,
        topology: services.topology.clone(),
        mes_book: services.mes_book.clone(),
        shop_book: services.shop_book.clone(),
        elapsed: started.elapsed(),
        services,
    })
}

#[derive(Clone, Debug)]
struct Urls {
    shop: String,
    crm: String,
    mes: String,
    sidecar: String,
}

/// The trace and order headers a browser or dashboard echoes back.
#[derive(Clone, Debug, Default)]
struct Session(HeaderMap);

impl Session {
    fn absorb(&mut self, headers: &HeaderMap) {
        for name in ["traceparent", "tracestate", "ordertrace-order"] {
            if let Some(v) = headers.get(name) {
                self.0.insert(name, v.clone());
            }
        }
    }
}

async fn create(
    http: &reqwest::Client,
    urls: &Urls,
    form: &OrderForm,
) -> Result<(String, Session), String> {
    let response = http
        .post(format!("{}/orders", urls.shop))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(form).unwrap_or_default())
        .send()
        .await
        .map_err(|e| format!("create: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("create: HTTP {}", response.status()));
    }
    let mut session = Session::default();
    session.absorb(response.headers());
    let bytes = response.bytes().await.map_err(|e| format!("create: {e}"))?;
    let body: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("create: {e}"))?;
    let id = body["order_id"]
        .as_str()
        .ok_or("create: no order id")?
        .to_owned();
    Ok((id, session))
}

async fn step(
    request: reqwest::RequestBuilder,
    session: &mut Session,
    what: &str,
) -> Result<(), String> {
    let response = request
        .headers(session.0.clone())
        .send()
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    if !response.status().is_success() {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        return Err(format!("{what}: HTTP {status} {body}"));
    }
    session.absorb(response.headers());
    Ok(())
}

/// One customer's order after creation: upload, submit, wait for production, the
/// operators' four steps through the sidecar, the courier's delivery confirmation.
async fn drive(
    http: &reqwest::Client,
    urls: &Urls,
    config: &DemoConfig,
    id: &str,
    mut session: Session,
    n: usize,
) -> Result<(), String> {
    let pause = |ms: u64| tokio::time::sleep(Duration::from_millis(ms + 7 * n as u64));
    pause(40).await;
    let model = Mesh::ring(9.0 + n as f32 * 0.25, 8.2, 3.0 + (n % 3) as f32, 96).to_binary_stl();
    let checksum = hex(&Sha256::digest(&model));
    step(
        http.put(format!("{}/orders/{id}/model", urls.shop))
            .header(CHECKSUM_HEADER, checksum)
            .header("content-type", "model/stl")
            .body(model),
        &mut session,
        "upload model",
    )
    .await?;
    pause(30).await;
    step(
        http.post(format!("{}/orders/{id}/submit", urls.shop)),
        &mut session,
        "submit",
    )
    .await?;

    // The operator's dashboard: wait until MES has the approved order, then pick up
    // its trace headers.
    let slow = if config.faults.contains(&Fault::SlowPricing) {
        config.slow_pricing_delay
    } else {
        Duration::ZERO
    };
    let deadline = Instant::now() + config.step_timeout + slow;
    let mut operator = Session::default();
    loop {
        if let Ok(r) = http.get(format!("{}/orders/{id}", urls.mes)).send().await {
            if r.status().is_success() {
                let bytes = r.bytes().await.unwrap_or_default();
                let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
                if body["status"] == OrderStatus::ManufacturingApproved.as_str() {
                    if let Some(headers) = body["trace_headers"].as_object() {
                        for (k, v) in headers {
                            if let (Ok(name), Some(Ok(value))) = (
                                reqwest::header::HeaderName::try_from(k.as_str()),
                                v.as_str().map(reqwest::header::HeaderValue::from_str),
                            ) {
                                operator.0.insert(name, value);
                            }
                        }
                    }
                    break;
                }
            }
        }
        if Instant::now() > deadline {
            return Err("waiting for manufacturing approval (never reached MES production)".into());
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }

    pause(60).await;
    step(
        http.post(format!("{}/orders/{id}/start", urls.sidecar)),
        &mut operator,
        "operator: start",
    )
    .await?;
    pause(120).await;
    step(
        http.post(format!("{}/orders/{id}/complete", urls.sidecar)),
        &mut operator,
        "operator: complete",
    )
    .await?;
    pause(50).await;
    step(
        http.post(format!("{}/packaging", urls.sidecar))
            .header("x-order-id", id),
        &mut operator,
        "operator: package",
    )
    .await?;
    pause(40).await;
    // The shipping label names the recipient: the sidecar records the body, the
    // redactor masks it.
    let form = &customers()[n % customers().len()];
    let label = serde_json::json!({
        "order_id": id,
        "recipient": form.full_name,
        "phone": form.phone,
        "address": "Москва, ул. Тверская, д. 7, кв. 12",
    });
    step(
        http.post(format!("{}/shipments", urls.sidecar))
            .header("content-type", "application/json")
            .body(label.to_string()),
        &mut operator,
        "operator: ship",
    )
    .await?;
    pause(80).await;
    step(
        http.post(format!("{}/orders/{id}/delivered", urls.crm)),
        &mut operator,
        "courier: delivered",
    )
    .await?;
    Ok(())
}
