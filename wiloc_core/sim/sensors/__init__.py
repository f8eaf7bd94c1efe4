"""Sensors that observe the same multipath components: VNA, CSI, OFDM, RTT, RSS."""
