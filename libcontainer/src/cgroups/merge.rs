//! `update`: folding new resources into the stored ones, as runc's `update`
//! does. Zero, empty and absent values mean "unchanged" (Docker sends zeros
//! for everything it does not change). Pure.

use std::collections::HashMap;
use std::hash::Hash;

use oci_spec::runtime::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxResources};

/// The outcome of merging an update.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// The resources to store in state.json: the old ones with the update
    /// folded in.
    pub stored: LinuxResources,
    /// The resources to write now: the update itself, except that a lone cpu
    /// quota or period is completed with the stored other half (runc keeps
    /// the old value instead of resetting it).
    pub apply: LinuxResources,
}

/// The new value unless it is absent or zero (the type's default).
fn pick<T: Copy + PartialEq + Default>(old: Option<T>, new: Option<T>) -> Option<T> {
    match new {
        Some(v) if v != T::default() => Some(v),
        _ => old,
    }
}

/// A list or string replaces the old one unless it is absent or empty.
fn pick_ref<T: Clone>(old: &Option<T>, new: &Option<T>, empty: impl Fn(&T) -> bool) -> Option<T> {
    match new {
        Some(v) if !empty(v) => Some(v.clone()),
        _ => old.clone(),
    }
}

fn merge_map<K: Clone + Eq + Hash, V: Clone>(old: &Option<HashMap<K, V>>, new: &Option<HashMap<K, V>>) -> Option<HashMap<K, V>> {
    match (old, new) {
        (_, None) => old.clone(),
        (None, Some(n)) => Some(n.clone()),
        (Some(o), Some(n)) => Some(o.iter().chain(n.iter()).map(|(k, v)| (k.clone(), v.clone())).collect()),
    }
}

/// Merges `new` into `old`.
pub fn merge(old: &LinuxResources, new: &LinuxResources) -> Merged {
    let mut stored = old.clone();
    if let Some(n) = new.memory() {
        stored.set_memory(Some(merge_memory((*old.memory()).unwrap_or_default(), n)));
    }
    if let Some(n) = new.cpu() {
        stored.set_cpu(Some(merge_cpu(old.cpu().clone().unwrap_or_default(), n)));
    }
    if let Some(n) = new.pids().as_ref().filter(|p| p.limit() != 0) {
        stored.set_pids(Some(*n));
    }
    if let Some(n) = new.block_io() {
        stored.set_block_io(Some(merge_io(old.block_io().clone().unwrap_or_default(), n)));
    }
    if let Some(n) = new.hugepage_limits().as_ref().filter(|v| !v.is_empty()) {
        let mut all = old.hugepage_limits().clone().unwrap_or_default();
        all.retain(|h| !n.iter().any(|x| x.page_size() == h.page_size()));
        all.extend(n.iter().cloned());
        stored.set_hugepage_limits(Some(all));
    }
    if new.devices().is_some() {
        stored.set_devices(new.devices().clone());
    }
    stored.set_rdma(merge_map(old.rdma(), new.rdma()));
    stored.set_unified(merge_map(old.unified(), new.unified()));
    if new.network().is_some() {
        stored.set_network(new.network().clone());
    }
    let mut apply = new.clone();
    if let (Some(n), Some(s)) = (new.cpu(), stored.cpu()) {
        let (q, p) = (n.quota().unwrap_or(0), n.period().unwrap_or(0));
        if (q == 0) != (p == 0) {
            let mut c = n.clone();
            c.set_quota(s.quota());
            c.set_period(s.period());
            apply.set_cpu(Some(c));
        }
    }
    Merged { stored, apply }
}

fn merge_memory(mut m: LinuxMemory, n: &LinuxMemory) -> LinuxMemory {
    m.set_limit(pick(m.limit(), n.limit()));
    m.set_reservation(pick(m.reservation(), n.reservation()));
    m.set_swap(pick(m.swap(), n.swap()));
    m.set_check_before_update(n.check_before_update().or(m.check_before_update()));
    m
}

fn merge_cpu(mut c: LinuxCpu, n: &LinuxCpu) -> LinuxCpu {
    c.set_shares(pick(c.shares(), n.shares()));
    c.set_quota(pick(c.quota(), n.quota()));
    c.set_period(pick(c.period(), n.period()));
    c.set_burst(n.burst().or(c.burst()));
    c.set_idle(n.idle().or(c.idle()));
    c.set_realtime_runtime(pick(c.realtime_runtime(), n.realtime_runtime()));
    c.set_realtime_period(pick(c.realtime_period(), n.realtime_period()));
    c.set_cpus(pick_ref(c.cpus(), n.cpus(), String::is_empty));
    c.set_mems(pick_ref(c.mems(), n.mems(), String::is_empty));
    c
}

fn merge_io(mut b: LinuxBlockIo, n: &LinuxBlockIo) -> LinuxBlockIo {
    b.set_weight(pick(b.weight(), n.weight()));
    b.set_leaf_weight(pick(b.leaf_weight(), n.leaf_weight()));
    b.set_weight_device(pick_ref(b.weight_device(), n.weight_device(), Vec::is_empty));
    b.set_throttle_read_bps_device(pick_ref(b.throttle_read_bps_device(), n.throttle_read_bps_device(), Vec::is_empty));
    b.set_throttle_write_bps_device(pick_ref(b.throttle_write_bps_device(), n.throttle_write_bps_device(), Vec::is_empty));
    b.set_throttle_read_iops_device(pick_ref(b.throttle_read_iops_device(), n.throttle_read_iops_device(), Vec::is_empty));
    b.set_throttle_write_iops_device(pick_ref(b.throttle_write_iops_device(), n.throttle_write_iops_device(), Vec::is_empty));
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(json: &str) -> LinuxResources {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn zeros_keep_old_values() {
        let old = res(r#"{"memory":{"limit":100,"swap":300},"pids":{"limit":10},"cpu":{"shares":512,"cpus":"0"}}"#);
        // what docker sends for `docker update --pids-limit 20`
        let new = res(r#"{"memory":{"limit":0,"swap":0,"reservation":0},"pids":{"limit":20},"cpu":{"shares":0,"quota":0,"period":0,"cpus":"","mems":""},"blockIO":{"weight":0}}"#);
        let m = merge(&old, &new);
        let s = &m.stored;
        assert_eq!(s.memory().as_ref().unwrap().limit(), Some(100));
        assert_eq!(s.memory().as_ref().unwrap().swap(), Some(300));
        assert_eq!(s.pids().as_ref().unwrap().limit(), 20);
        assert_eq!(s.cpu().as_ref().unwrap().shares(), Some(512));
        assert_eq!(s.cpu().as_ref().unwrap().cpus().as_deref(), Some("0"));
        assert_eq!(s.block_io().as_ref().unwrap().weight(), None);
    }

    #[test]
    fn lone_quota_or_period_keeps_the_other() {
        let old = res(r#"{"cpu":{"quota":50000,"period":100000}}"#);
        let m = merge(&old, &res(r#"{"cpu":{"period":200000}}"#));
        let plan = crate::cgroups::plan(&m.apply).unwrap();
        assert_eq!(plan.writes[0].value, "50000 200000");
        let m = merge(&old, &res(r#"{"cpu":{"quota":20000}}"#));
        assert_eq!(crate::cgroups::plan(&m.apply).unwrap().writes[0].value, "20000 100000");
        assert_eq!(m.stored.cpu().as_ref().unwrap().quota(), Some(20000));
    }

    #[test]
    fn maps_and_lists_merge() {
        let old = res(r#"{"unified":{"memory.high":"1","pids.max":"3"},"hugepageLimits":[{"pageSize":"2MB","limit":1},{"pageSize":"1GB","limit":2}],
            "devices":[{"allow":false,"access":"rwm"}]}"#);
        let new = res(r#"{"unified":{"pids.max":"4"},"hugepageLimits":[{"pageSize":"2MB","limit":9}],"devices":[{"allow":true,"type":"b","major":7,"minor":0,"access":"r"}]}"#);
        let s = merge(&old, &new).stored;
        let u = s.unified().as_ref().unwrap();
        assert_eq!((u["memory.high"].as_str(), u["pids.max"].as_str()), ("1", "4"));
        let h = s.hugepage_limits().as_ref().unwrap();
        assert_eq!(h.len(), 2);
        assert!(h.iter().any(|x| x.page_size() == "2MB" && x.limit() == 9));
        assert_eq!(s.devices().as_ref().unwrap().len(), 1);
        assert!(s.devices().as_ref().unwrap()[0].allow());
    }
}
