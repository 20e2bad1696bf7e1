//! Where the call is in the four-step method, from the analysis summary:
//! customer states intent -> agent probes -> reason known -> agent
//! empathised -> agent proposed -> customer accepts (or insists).

use super::playbook::Stage;
use crate::analysis::CallProgress;

/// The step the agent should be working on now (None before anything
/// retention-related has happened).
pub fn current_stage(s: &CallProgress) -> Option<Stage> {
    s.current_stage()
}

/// The method's own rule, enforced whatever the playbook says: no proposal
/// while the customer is upset and the agent has not yet empathised
/// (先处理情绪，再处理事情).
pub fn proposal_blocked(s: &CallProgress) -> bool {
    s.proposal_blocked()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{Level, Reason};

    #[test]
    fn the_stage_follows_the_method() {
        let mut s = CallProgress::default();
        assert_eq!(current_stage(&s), None);
        s.churn_intent = true;
        assert_eq!(current_stage(&s), Some(Stage::Listen));
        s.reason = Some(Reason::Network);
        s.agent_probed = true;
        assert_eq!(current_stage(&s), Some(Stage::Propose));
        s.level = Some(Level::Angry);
        assert_eq!(current_stage(&s), Some(Stage::Empathize));
        assert!(proposal_blocked(&s));
        s.agent_empathized = true;
        assert_eq!(current_stage(&s), Some(Stage::Propose));
        s.agent_proposed = true;
        s.customer_accepted = true;
        assert_eq!(current_stage(&s), Some(Stage::Confirm));
    }
}
