"""Question library, question sets, pulses, invitations and answering."""
