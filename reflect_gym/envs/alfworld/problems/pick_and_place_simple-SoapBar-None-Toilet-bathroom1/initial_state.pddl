(define (problem plan_pick_and_place_simple-SoapBar-None-Toilet-bathroom1)
(:domain alfred)
(:objects
agent1 - agent
        ButterKnifeType - otype
        CandleType - otype
        ClothType - otype
        HandTowelType - otype
        KnifeType - otype
        SoapBarType - otype
        SoapBottleType - otype
        SprayBottleType - otype
        ToiletPaperType - otype
        TowelType - otype
        BathtubBasinType - rtype
        CabinetType - rtype
        CounterTopType - rtype
        FridgeType - rtype
        GarbageCanType - rtype
        HandTowelHolderType - rtype
        MicrowaveType - rtype
        SinkBasinType - rtype
        ToiletType - rtype
        ToiletPaperHangerType - rtype
        TowelHolderType - rtype
        Candle_bar__plus_08_dot_06_bar__plus_01_dot_00_bar__plus_07_dot_10 - object
        SoapBar_bar__plus_08_dot_54_bar__plus_00_dot_90_bar__plus_07_dot_53 - object
        SprayBottle_bar__plus_09_dot_35_bar__plus_00_dot_95_bar__plus_07_dot_96 - object
        ToiletPaper_bar__plus_09_dot_72_bar__plus_01_dot_00_bar__plus_08_dot_39 - object
        Towel_bar__plus_09_dot_43_bar__plus_00_dot_90_bar__plus_08_dot_82 - object
        Cloth_bar__plus_09_dot_80_bar__plus_00_dot_95_bar__plus_09_dot_25 - object
        HandTowel_bar__plus_10_dot_61_bar__plus_01_dot_00_bar__plus_09_dot_68 - object
        SoapBottle_bar__plus_11_dot_09_bar__plus_00_dot_90_bar__plus_10_dot_11 - object
        Toilet_bar__plus_00_dot_66_bar__plus_00_dot_90_bar__minus_01_dot_50 - receptacle
        Cabinet_bar__plus_01_dot_14_bar__plus_00_dot_95_bar__minus_01_dot_07 - receptacle
        Cabinet_bar__plus_01_dot_51_bar__plus_01_dot_00_bar__minus_00_dot_64 - receptacle
        CounterTop_bar__plus_02_dot_21_bar__plus_00_dot_90_bar__minus_00_dot_21 - receptacle
        Sink_bar__plus_01_dot_92_bar__plus_00_dot_95_bar__plus_00_dot_22_bar_SinkBasin - receptacle
        Bathtub_bar__plus_02_dot_62_bar__plus_01_dot_00_bar__plus_00_dot_65_bar_BathtubBasin - receptacle
        GarbageCan_bar__plus_03_dot_32_bar__plus_00_dot_90_bar__plus_01_dot_08 - receptacle
        TowelHolder_bar__plus_03_dot_80_bar__plus_00_dot_95_bar__plus_01_dot_51 - receptacle
        ToiletPaperHanger_bar__plus_04_dot_83_bar__plus_01_dot_00_bar__plus_01_dot_94 - receptacle
        HandTowelHolder_bar__plus_04_dot_98_bar__plus_00_dot_90_bar__plus_02_dot_37 - receptacle
        loc_bar_0_bar_6_bar_3_bar__minus_15 - location
        loc_bar_0_bar__minus_4_bar_0_bar__minus_30 - location
        loc_bar_1_bar__minus_1_bar_1_bar__minus_15 - location
        loc_bar_1_bar__minus_2_bar_0_bar_0 - location
        loc_bar_2_bar_1_bar_1_bar_15 - location
        loc_bar_2_bar_2_bar_2_bar_0 - location
        loc_bar_3_bar_5_bar_3_bar_15 - location
        loc_bar_4_bar__minus_3_bar_0_bar_30 - location
        loc_bar_5_bar_0_bar_1_bar_45 - location
        loc_bar_6_bar_3_bar_2_bar__minus_30 - location
        loc_bar__minus_1_bar_5_bar_0_bar_30 - location
        )

(:init

        (receptacleType Toilet_bar__plus_00_dot_66_bar__plus_00_dot_90_bar__minus_01_dot_50 ToiletType)
        (receptacleType Cabinet_bar__plus_01_dot_14_bar__plus_00_dot_95_bar__minus_01_dot_07 CabinetType)
        (receptacleType Cabinet_bar__plus_01_dot_51_bar__plus_01_dot_00_bar__minus_00_dot_64 CabinetType)
        (receptacleType CounterTop_bar__plus_02_dot_21_bar__plus_00_dot_90_bar__minus_00_dot_21 CounterTopType)
        (receptacleType Sink_bar__plus_01_dot_92_bar__plus_00_dot_95_bar__plus_00_dot_22_bar_SinkBasin SinkBasinType)
        (receptacleType Bathtub_bar__plus_02_dot_62_bar__plus_01_dot_00_bar__plus_00_dot_65_bar_BathtubBasin BathtubBasinType)
        (receptacleType GarbageCan_bar__plus_03_dot_32_bar__plus_00_dot_90_bar__plus_01_dot_08 GarbageCanType)
        (receptacleType TowelHolder_bar__plus_03_dot_80_bar__plus_00_dot_95_bar__plus_01_dot_51 TowelHolderType)
        (receptacleType ToiletPaperHanger_bar__plus_04_dot_83_bar__plus_01_dot_00_bar__plus_01_dot_94 ToiletPaperHangerType)
        (receptacleType HandTowelHolder_bar__plus_04_dot_98_bar__plus_00_dot_90_bar__plus_02_dot_37 HandTowelHolderType)
        (objectType Candle_bar__plus_08_dot_06_bar__plus_01_dot_00_bar__plus_07_dot_10 CandleType)
        (objectType SoapBar_bar__plus_08_dot_54_bar__plus_00_dot_90_bar__plus_07_dot_53 SoapBarType)
        (objectType SprayBottle_bar__plus_09_dot_35_bar__plus_00_dot_95_bar__plus_07_dot_96 SprayBottleType)
        (objectType ToiletPaper_bar__plus_09_dot_72_bar__plus_01_dot_00_bar__plus_08_dot_39 ToiletPaperType)
        (objectType Towel_bar__plus_09_dot_43_bar__plus_00_dot_90_bar__plus_08_dot_82 TowelType)
        (objectType Cloth_bar__plus_09_dot_80_bar__plus_00_dot_95_bar__plus_09_dot_25 ClothType)
        (objectType HandTowel_bar__plus_10_dot_61_bar__plus_01_dot_00_bar__plus_09_dot_68 HandTowelType)
        (objectType SoapBottle_bar__plus_11_dot_09_bar__plus_00_dot_90_bar__plus_10_dot_11 SoapBottleType)
        (canContain BathtubBasinType ClothType)
        (canContain BathtubBasinType HandTowelType)
        (canContain BathtubBasinType SoapBarType)
        (canContain CabinetType CandleType)
        (canContain CabinetType ClothType)
        (canContain CabinetType HandTowelType)
        (canContain CabinetType SoapBarType)
        (canContain CabinetType SoapBottleType)
        (canContain CabinetType SprayBottleType)
        (canContain CabinetType ToiletPaperType)
        (canContain CounterTopType CandleType)
        (canContain CounterTopType ClothType)
        (canContain CounterTopType HandTowelType)
        (canContain CounterTopType SoapBarType)
        (canContain CounterTopType SoapBottleType)
        (canContain CounterTopType SprayBottleType)
        (canContain CounterTopType ToiletPaperType)
        (canContain GarbageCanType ClothType)
        (canContain GarbageCanType HandTowelType)
        (canContain GarbageCanType SoapBarType)
        (canContain GarbageCanType SoapBottleType)
        (canContain GarbageCanType SprayBottleType)
        (canContain GarbageCanType ToiletPaperType)
        (canContain HandTowelHolderType HandTowelType)
        (canContain SinkBasinType ClothType)
        (canContain SinkBasinType HandTowelType)
        (canContain SinkBasinType SoapBarType)
        (canContain ToiletType CandleType)
        (canContain ToiletType ClothType)
        (canContain ToiletType HandTowelType)
        (canContain ToiletType SoapBarType)
        (canContain ToiletType SoapBottleType)
        (canContain ToiletType SprayBottleType)
        (canContain ToiletType ToiletPaperType)
        (canContain ToiletPaperHangerType ToiletPaperType)
        (canContain TowelHolderType TowelType)
        (pickupable Candle_bar__plus_08_dot_06_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (pickupable SoapBar_bar__plus_08_dot_54_bar__plus_00_dot_90_bar__plus_07_dot_53)
        (pickupable SprayBottle_bar__plus_09_dot_35_bar__plus_00_dot_95_bar__plus_07_dot_96)
        (pickupable ToiletPaper_bar__plus_09_dot_72_bar__plus_01_dot_00_bar__plus_08_dot_39)
        (pickupable Towel_bar__plus_09_dot_43_bar__plus_00_dot_90_bar__plus_08_dot_82)
        (pickupable Cloth_bar__plus_09_dot_80_bar__plus_00_dot_95_bar__plus_09_dot_25)
        (pickupable HandTowel_bar__plus_10_dot_61_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (pickupable SoapBottle_bar__plus_11_dot_09_bar__plus_00_dot_90_bar__plus_10_dot_11)
        (openable Cabinet_bar__plus_01_dot_14_bar__plus_00_dot_95_bar__minus_01_dot_07)
        (openable Cabinet_bar__plus_01_dot_51_bar__plus_01_dot_00_bar__minus_00_dot_64)
        (atLocation agent1 loc_bar__minus_1_bar_5_bar_0_bar_30)
        (cleanable SoapBar_bar__plus_08_dot_54_bar__plus_00_dot_90_bar__plus_07_dot_53)
        (cleanable Cloth_bar__plus_09_dot_80_bar__plus_00_dot_95_bar__plus_09_dot_25)
        (inReceptacle Candle_bar__plus_08_dot_06_bar__plus_01_dot_00_bar__plus_07_dot_10 Toilet_bar__plus_00_dot_66_bar__plus_00_dot_90_bar__minus_01_dot_50)
        (inReceptacle SoapBar_bar__plus_08_dot_54_bar__plus_00_dot_90_bar__plus_07_dot_53 Cabinet_bar__plus_01_dot_51_bar__plus_01_dot_00_bar__minus_00_dot_64)
        (inReceptacle SprayBottle_bar__plus_09_dot_35_bar__plus_00_dot_95_bar__plus_07_dot_96 CounterTop_bar__plus_02_dot_21_bar__plus_00_dot_90_bar__minus_00_dot_21)
        (inReceptacle ToiletPaper_bar__plus_09_dot_72_bar__plus_01_dot_00_bar__plus_08_dot_39 ToiletPaperHanger_bar__plus_04_dot_83_bar__plus_01_dot_00_bar__plus_01_dot_94)
        (inReceptacle Towel_bar__plus_09_dot_43_bar__plus_00_dot_90_bar__plus_08_dot_82 TowelHolder_bar__plus_03_dot_80_bar__plus_00_dot_95_bar__plus_01_dot_51)
        (inReceptacle Cloth_bar__plus_09_dot_80_bar__plus_00_dot_95_bar__plus_09_dot_25 Bathtub_bar__plus_02_dot_62_bar__plus_01_dot_00_bar__plus_00_dot_65_bar_BathtubBasin)
        (inReceptacle HandTowel_bar__plus_10_dot_61_bar__plus_01_dot_00_bar__plus_09_dot_68 HandTowelHolder_bar__plus_04_dot_98_bar__plus_00_dot_90_bar__plus_02_dot_37)
        (inReceptacle SoapBottle_bar__plus_11_dot_09_bar__plus_00_dot_90_bar__plus_10_dot_11 Cabinet_bar__plus_01_dot_14_bar__plus_00_dot_95_bar__minus_01_dot_07)
        (receptacleAtLocation Toilet_bar__plus_00_dot_66_bar__plus_00_dot_90_bar__minus_01_dot_50 loc_bar_0_bar__minus_4_bar_0_bar__minus_30)
        (receptacleAtLocation Cabinet_bar__plus_01_dot_14_bar__plus_00_dot_95_bar__minus_01_dot_07 loc_bar_1_bar__minus_1_bar_1_bar__minus_15)
        (receptacleAtLocation Cabinet_bar__plus_01_dot_51_bar__plus_01_dot_00_bar__minus_00_dot_64 loc_bar_2_bar_2_bar_2_bar_0)
        (receptacleAtLocation CounterTop_bar__plus_02_dot_21_bar__plus_00_dot_90_bar__minus_00_dot_21 loc_bar_3_bar_5_bar_3_bar_15)
        (receptacleAtLocation Sink_bar__plus_01_dot_92_bar__plus_00_dot_95_bar__plus_00_dot_22_bar_SinkBasin loc_bar_4_bar__minus_3_bar_0_bar_30)
        (receptacleAtLocation Bathtub_bar__plus_02_dot_62_bar__plus_01_dot_00_bar__plus_00_dot_65_bar_BathtubBasin loc_bar_5_bar_0_bar_1_bar_45)
        (receptacleAtLocation GarbageCan_bar__plus_03_dot_32_bar__plus_00_dot_90_bar__plus_01_dot_08 loc_bar_6_bar_3_bar_2_bar__minus_30)
        (receptacleAtLocation TowelHolder_bar__plus_03_dot_80_bar__plus_00_dot_95_bar__plus_01_dot_51 loc_bar_0_bar_6_bar_3_bar__minus_15)
        (receptacleAtLocation ToiletPaperHanger_bar__plus_04_dot_83_bar__plus_01_dot_00_bar__plus_01_dot_94 loc_bar_1_bar__minus_2_bar_0_bar_0)
        (receptacleAtLocation HandTowelHolder_bar__plus_04_dot_98_bar__plus_00_dot_90_bar__plus_02_dot_37 loc_bar_2_bar_1_bar_1_bar_15)
        (objectAtLocation Candle_bar__plus_08_dot_06_bar__plus_01_dot_00_bar__plus_07_dot_10 loc_bar_0_bar__minus_4_bar_0_bar__minus_30)
        (objectAtLocation SoapBar_bar__plus_08_dot_54_bar__plus_00_dot_90_bar__plus_07_dot_53 loc_bar_2_bar_2_bar_2_bar_0)
        (objectAtLocation SprayBottle_bar__plus_09_dot_35_bar__plus_00_dot_95_bar__plus_07_dot_96 loc_bar_3_bar_5_bar_3_bar_15)
        (objectAtLocation ToiletPaper_bar__plus_09_dot_72_bar__plus_01_dot_00_bar__plus_08_dot_39 loc_bar_1_bar__minus_2_bar_0_bar_0)
        (objectAtLocation Towel_bar__plus_09_dot_43_bar__plus_00_dot_90_bar__plus_08_dot_82 loc_bar_0_bar_6_bar_3_bar__minus_15)
        (objectAtLocation Cloth_bar__plus_09_dot_80_bar__plus_00_dot_95_bar__plus_09_dot_25 loc_bar_5_bar_0_bar_1_bar_45)
        (objectAtLocation HandTowel_bar__plus_10_dot_61_bar__plus_01_dot_00_bar__plus_09_dot_68 loc_bar_2_bar_1_bar_1_bar_15)
        (objectAtLocation SoapBottle_bar__plus_11_dot_09_bar__plus_00_dot_90_bar__plus_10_dot_11 loc_bar_1_bar__minus_1_bar_1_bar__minus_15)
        )

        (:goal
            (and
                (exists (?r - receptacle)
                    (exists (?o - object)
                        (and
                            (inReceptacle ?o ?r)
                            (objectType ?o SoapBarType)
                            (receptacleType ?r ToiletType)
                        )
                    )
                )
            )
        )
    )
