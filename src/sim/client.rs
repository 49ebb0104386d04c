//! A client of the simulated cloud between `run_until` calls: it submits a request at a time of
//! its choosing and reads what a GET would return at the current instant. The Rally driver
//! (`crate::rally`) is such a client: its iterations run in the same virtual time as the cloud.

use super::workload::Origin;
use super::{Event, Sim};
use crate::engine::{SimTime, Stream};
use crate::model::Status;
use crate::scenario::RequestTemplate;

/// A request handed to [`Sim::submit_at`], before and after it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Submitted(u32);

/// The HTTP answer of a submitted request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// When the client has the answer (may be after `now` for an answer already decided).
    pub at: SimTime,
    pub code: u16,
    pub message: String,
}

/// `GET /servers/{id}` as an admin sees it (status and `OS-EXT-SRV-ATTR:host`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerView {
    pub status: Status,
    pub host: Option<String>,
    pub availability_zone: Option<String>,
}

/// A compute host as `os-availability-zone/detail` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneHost {
    pub name: String,
    pub availability_zone: String,
    /// `nova-compute` `available`: the service is up (servicegroup).
    pub available: bool,
}

impl Sim {
    /// Sends `template` at `at` (not before now): it reaches the API after the API latency.
    pub fn submit_at(
        &mut self,
        at: SimTime,
        name: Option<String>,
        template: RequestTemplate,
    ) -> Submitted {
        // The client reads each answer after the fact (`answer`), maybe once the request's
        // row is written: a client-driven run keeps its written records.
        self.requests.keep_written();
        let p = self.workload.request_specs.len() as u32;
        self.workload
            .request_specs
            .push(super::workload::PendingRequest {
                name,
                template,
                origin: Origin::Explicit,
                record: None,
            });
        let at = at.max(self.now());
        self.schedule_at(at, Event::ClientSubmit(p));
        Submitted(p)
    }

    /// The answer of `s`, once the API has decided it.
    pub fn answer(&self, s: Submitted) -> Option<Answer> {
        let r = self.workload.request_specs.get(s.0 as usize)?.record?;
        let rec = self.requests.get(r)?;
        rec.answered.map(|at| Answer {
            at,
            code: rec.code,
            message: rec.message.clone(),
        })
    }

    /// The time of the next pending event of the cloud.
    pub fn next_event_time(&mut self) -> Option<SimTime> {
        self.engine.queue.peek_time()
    }

    /// The server named `name` as a GET sees it now; `None` is a 404 (never created, or
    /// deleted).
    pub fn get_server(&self, name: &str) -> Option<ServerView> {
        let world = &self.cloud.world;
        let s = world.server(world.find_server(name)?);
        Some(ServerView {
            status: s.status(),
            host: s.host.map(|h| world.host(h).name.clone()),
            // `OS-EXT-AZ:availability_zone`: the host's zone once scheduled.
            availability_zone: s
                .availability_zone
                .clone()
                .or_else(|| s.host.map(|h| world.host(h).availability_zone.clone())),
        })
    }

    /// Every compute host with its zone and liveness, in host order.
    pub fn zone_hosts(&self) -> Vec<ZoneHost> {
        let world = &self.cloud.world;
        (0..world.hosts.len())
            .map(|h| {
                let id = crate::model::HostId(h as u32);
                let host = world.host(id);
                ZoneHost {
                    name: host.name.clone(),
                    availability_zone: host.availability_zone.clone(),
                    available: world.service_up(id),
                }
            })
            .collect()
    }

    /// A random stream of the run's seed for a client's own choices, apart from the cloud's.
    pub fn client_stream(&self, name: &str) -> Stream {
        self.engine.rngs.stream(name)
    }
}
