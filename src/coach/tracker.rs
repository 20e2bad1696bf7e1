//! Where the call is in the four-step method, from the analysis summary:
//! customer states intent -> agent probes -> reason known -> agent
//! empathised -> agent proposed -> customer accepts (or insists).

use super::playbook::Stage;
use crate::analysis::{CallSummary, Level};

/// The step the agent should be working on now (None before anything
/// retention-related has happened).
pub fn current_stage(s: &CallSummary) -> Option<Stage> {
    let upset = s.level.is_some_and(|l| l >= Level::Annoyed);
    if s.customer_accepted {
        return Some(Stage::Confirm);
    }
    if s.customer_insists && s.agent_proposed {
        return Some(Stage::Confirm);
    }
    if upset && !s.agent_empathized {
        return Some(Stage::Empathize);
    }
    if s.agent_proposed {
        return Some(Stage::Propose);
    }
    if s.reason.is_some() && (s.churn_intent || s.agent_probed || upset) {
        return Some(Stage::Propose);
    }
    if s.churn_intent {
        return Some(Stage::Listen);
    }
    if s.reason.is_some() || upset {
        return Some(Stage::Empathize);
    }
    None
}

/// The method's own rule, enforced whatever the playbook says: no proposal
/// while the customer is upset and the agent has not yet empathised
/// (先处理情绪，再处理事情).
pub fn proposal_blocked(s: &CallSummary) -> bool {
    s.level.is_some_and(|l| l >= Level::Annoyed) && !s.agent_empathized
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Reason;

    #[test]
    fn the_stage_follows_the_method() {
        let mut s = CallSummary::default();
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
